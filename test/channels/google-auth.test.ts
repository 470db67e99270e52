/**
 * The service-account token flow against the simulator's token endpoint, over real HTTP, with a
 * key generated at test time: JWT-bearer grant, caching, refresh before expiry and after a 401.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { generateServiceAccount } from '../../dev/simulator/oauth';
import { SeededRandom } from '../../dev/simulator/rng';
import { RBM_SCOPE, serviceAccountTokenSource } from '../../src/channels/google-auth';
import { FailureType, RetryableFailureType } from '../../src/domain/errors';
import { failureOf, startTestPlatform, type TestPlatform } from '../helpers/simulator';

const PHONE = '+14155550101';
const AGENT = 'auth-test@rbm.goog';
const text = (t: string) => ({ contentMessage: { text: t } });

describe('service-account token flow against the simulator', () => {
  let platform: TestPlatform;
  beforeEach(async () => {
    platform = await startTestPlatform({ defaults: { deliverAfterMs: null } });
  });
  afterEach(async () => {
    await platform.stop();
  });

  test('one token serves many requests, and the JWT assertion was checked by the token endpoint', async () => {
    const rbm = platform.rbm();
    for (let i = 0; i < 5; i++)
      await rbm.createAgentMessage({ agentId: AGENT, msisdn: PHONE, messageId: `m-${i}`, message: text(`hi ${i}`) });

    const tokenCalls = platform.sim.calls({ api: 'oauth' });
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0]).toMatchObject({
      method: 'POST',
      path: '/token',
      status: 200,
      body: { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: '<redacted JWT>' },
    });
    expect(platform.sim.tokensIssued()).toBe(1);
    expect(platform.sim.calls({ api: 'rbm' }).map((c) => c.status)).toEqual([200, 200, 200, 200, 200]);
  });

  test('a token about to expire is refreshed before use', async () => {
    // Tokens living 60 s are inside google-auth-library's 5-minute refresh window: every call mints a new one.
    await platform.stop();
    platform = await startTestPlatform({ tokenLifetimeS: 60, defaults: { deliverAfterMs: null } });
    const rbm = platform.rbm();
    for (let i = 0; i < 3; i++)
      await rbm.createAgentMessage({ agentId: AGENT, msisdn: PHONE, messageId: `e-${i}`, message: text('x') });
    expect(platform.sim.tokensIssued()).toBe(3);

    // With a refresh window shorter than the lifetime the token is reused.
    const patient = platform.rbm({ eagerRefreshThresholdMillis: 1000 });
    for (let i = 0; i < 3; i++)
      await patient.createAgentMessage({ agentId: AGENT, msisdn: PHONE, messageId: `p-${i}`, message: text('x') });
    expect(platform.sim.tokensIssued()).toBe(4);
  });

  test('a 401 drops the cached token, mints a new one and repeats the call once with the same id', async () => {
    const rbm = platform.rbm();
    await rbm.createAgentMessage({ agentId: AGENT, msisdn: PHONE, messageId: 'before', message: text('a') });
    platform.sim.revokeTokens();
    await rbm.createAgentMessage({ agentId: AGENT, msisdn: PHONE, messageId: 'after', message: text('b') });

    expect(platform.sim.tokensIssued()).toBe(2);
    const sends = platform.sim.calls({ api: 'rbm' }).map((c) => [c.query.messageId, c.status]);
    expect(sends).toEqual([
      ['before', 200],
      ['after', 401],
      ['after', 200],
    ]);
    expect(platform.sim.messages().map((m) => m.messageId)).toEqual(['before', 'after']);
  });

  test('a key the token endpoint does not know is a permanent PermissionDenied', async () => {
    const stranger = generateServiceAccount(new SeededRandom(99), `${platform.url}/token`);
    const keyFile = path.join(path.dirname(platform.keyFile), 'stranger.json');
    writeFileSync(keyFile, JSON.stringify(stranger.key));
    const tokens = serviceAccountTokenSource({ key: { file: keyFile }, scopes: [RBM_SCOPE], timeoutMs: 2000 });

    const failure = await failureOf(() => tokens.getToken());
    expect(failure.type).toBe(FailureType.PermissionDenied);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('invalid_grant');
    expect(platform.sim.calls({ api: 'oauth' })[0]?.status).toBe(400);
  });

  test('GOOGLE_TOKEN_URI overrides the token_uri of the key', async () => {
    const key = { ...platform.sim.serviceAccountKey(), token_uri: 'http://127.0.0.1:9/nowhere' };
    const tokens = serviceAccountTokenSource({
      key,
      scopes: [RBM_SCOPE],
      tokenUri: `${platform.url}/token`,
      timeoutMs: 2000,
    });
    await expect(tokens.getToken()).resolves.toMatch(/^ya29\.sim-/);

    const unreachable = serviceAccountTokenSource({ key, scopes: [RBM_SCOPE], timeoutMs: 2000 });
    const failure = await failureOf(() => unreachable.getToken());
    expect(failure.type).toBe(RetryableFailureType.Unavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  test('a failing token endpoint is retryable; a missing key file is NotConfigured', async () => {
    platform.sim.addFault({ api: 'oauth', status: 503, times: 1 });
    const tokens = serviceAccountTokenSource({ key: { file: platform.keyFile }, scopes: [RBM_SCOPE], timeoutMs: 2000 });
    const failure = await failureOf(() => tokens.getToken());
    expect(failure.type).toBe(RetryableFailureType.Unavailable);
    expect(failure.nonRetryable).toBe(false);
    // The next attempt (Temporal's retry) gets a token.
    await expect(tokens.getToken()).resolves.toMatch(/^ya29\.sim-/);

    const missing = serviceAccountTokenSource({
      key: { file: path.join(path.dirname(platform.keyFile), 'absent.json') },
      scopes: [RBM_SCOPE],
      timeoutMs: 2000,
    });
    const notConfigured = await failureOf(() => missing.getToken());
    expect(notConfigured.type).toBe(FailureType.NotConfigured);
    expect(notConfigured.nonRetryable).toBe(true);
  });

  test('a token for one API is refused by the other (scopes are checked)', async () => {
    const key = platform.sim.serviceAccountKey();
    const tokens = serviceAccountTokenSource({ key, scopes: [RBM_SCOPE], timeoutMs: 2000 });
    const token = await tokens.getToken();
    const res = await fetch(`${platform.url}/v1/conversations/c1/events?eventId=e1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventType: 'TYPING_STARTED', representative: { representativeType: 'BOT' } }),
    });
    expect(res.status).toBe(403);
    const anonymous = await fetch(`${platform.url}/v1/phones/${PHONE}/capabilities?agentId=${AGENT}&requestId=r1`);
    expect(anonymous.status).toBe(401);
  });
});
