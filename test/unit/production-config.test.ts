/** Outside development the API and the worker refuse a configuration only fit for npm start, naming the variable. */
import { ConfigError, DEV_API_TOKEN, DEV_CLIENT_TOKEN, loadConfig, requireProductionConfig } from '../../src/config';

const GOOD = {
  RBM_CLIENT_TOKEN: 'r'.repeat(32),
  BM_CLIENT_TOKEN: 'b'.repeat(40),
  API_TOKEN: 'a'.repeat(32),
  WORKFLOW_ID_SECRET: 'a secret of this deployment, set once',
  RBM_API_BASE_URL: 'https://rbm.example.com',
};

test('a deployment-shaped configuration starts', () => {
  expect(() => requireProductionConfig(loadConfig(GOOD), 'api')).not.toThrow();
  expect(() => requireProductionConfig(loadConfig({}), 'worker')).not.toThrow();
});

test.each([
  ['RBM_CLIENT_TOKEN', { RBM_CLIENT_TOKEN: DEV_CLIENT_TOKEN }, /RBM_CLIENT_TOKEN is a development token/],
  ['API_TOKEN', { API_TOKEN: DEV_API_TOKEN }, /API_TOKEN is a development token/],
  [
    'BM_CLIENT_TOKEN',
    { BM_CLIENT_TOKEN: 'short-token' },
    /BM_CLIENT_TOKEN must be at least 32 characters \(it has 11\)/,
  ],
  ['API_TOKEN', { API_TOKEN: 'sixteen-chars-ok!' }, /API_TOKEN must be at least 32 characters/],
  [
    'RBM_CLIENT_TOKENS',
    { RBM_CLIENT_TOKENS: JSON.stringify({ 'a@rbm.goog': 'tiny' }) },
    /RBM_CLIENT_TOKENS\["a@rbm.goog"\] must be at least 32/,
  ],
  ['WORKFLOW_ID_SECRET', { WORKFLOW_ID_SECRET: undefined }, /WORKFLOW_ID_SECRET is the default/],
  ['RBM_API_BASE_URL', { RBM_API_BASE_URL: 'http://rbm.example.com' }, /RBM_API_BASE_URL must be an https:\/\/ URL/],
  ['TWILIO_BASE_URL', { TWILIO_BASE_URL: 'http://sms.example.com' }, /TWILIO_BASE_URL must be an https:\/\/ URL/],
  ['HANDOFF_URL', { HANDOFF_URL: 'http://desk.example.com/h' }, /HANDOFF_URL must be an https:\/\/ URL/],
  [
    'AUTH_CODE_URL',
    { AUTH_CODE_URL: 'http://signin.example.com/codes', AUTH_CODE_SECRET: 's'.repeat(32) },
    /AUTH_CODE_URL must be an https:\/\/ URL/,
  ],
  [
    'AUTH_CODE_SECRET',
    { AUTH_CODE_URL: 'https://signin.example.com/codes', AUTH_CODE_SECRET: 'short' },
    /AUTH_CODE_SECRET must be at least 32 characters/,
  ],
])('%s: refused in production, named', (_name, change, message) => {
  const config = loadConfig({ ...GOOD, ...change });
  expect(() => requireProductionConfig(config, 'api')).toThrow(ConfigError);
  expect(() => requireProductionConfig(config, 'api')).toThrow(message);
  expect(() =>
    requireProductionConfig(loadConfig({ ...GOOD, ...change, SWITCHBOARD_MODE: 'development' }), 'api'),
  ).not.toThrow();
});

test('the worker does not compute workflow IDs, so the default secret does not stop it; an http URL does', () => {
  expect(() => requireProductionConfig(loadConfig({}), 'worker')).not.toThrow();
  expect(() => requireProductionConfig(loadConfig({ HANDOFF_URL: 'http://desk.example.com' }), 'worker')).toThrow(
    /HANDOFF_URL/,
  );
});

test('AUTH_CODE_URL and AUTH_CODE_SECRET come together or not at all, naming the missing one', () => {
  expect(() => loadConfig({ AUTH_CODE_URL: 'https://signin.example.com/codes' })).toThrow(/AUTH_CODE_SECRET is unset/);
  expect(() => loadConfig({ AUTH_CODE_SECRET: 's'.repeat(32) })).toThrow(/AUTH_CODE_URL is unset/);
  expect(
    loadConfig({ ...GOOD, AUTH_CODE_URL: 'https://signin.example.com/codes', AUTH_CODE_SECRET: 's'.repeat(32) })
      .authCodes,
  ).toEqual({ url: 'https://signin.example.com/codes', secret: 's'.repeat(32) });
  expect(loadConfig(GOOD).authCodes).toBeUndefined();
});
