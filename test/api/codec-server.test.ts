/**
 * The codec endpoint (/codec) on the production app, without Temporal: Temporal's remote codec
 * protocol in and out, the token (header or path) compared before anything is decoded, X-Namespace,
 * CORS for the configured UI origins only, clear errors for bad bodies and foreign keys, and no
 * token in any log line.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { AesGcmPayloadCodec } from '../../src/temporal/payload-codec';
import { generatePayloadKeyEntry, parsePayloadKeys } from '../../src/temporal/payload-keys';
import { ConversationsClient } from '../../src/temporal-client/conversations';

const TOKEN = 'codec-test-token-0123456789';
const UI = 'http://localhost:8233';
const OLD = generatePayloadKeyEntry('old');
const NEW = generatePayloadKeyEntry('new');
const SECRET = 'the door code is 4711';

const logLines: string[] = [];
function appWith(env: Record<string, string>) {
  const config = loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', ...env });
  // A lazy client never connects: the codec endpoint needs no Temporal.
  const conversations = new ConversationsClient({
    client: createLazyClient(config.temporal),
    taskQueue: 'unused',
    timeoutMs: 100,
    workflowIds: { revealPhoneNumbers: false, secret: 'x' },
  });
  return createApp({ config, conversations, logger: createLogger('debug', {}, (line) => logLines.push(line)) });
}
const API_TOKEN = 'operator-api-token-0123456789';
const app = appWith({
  PAYLOAD_ENCRYPTION_KEYS: `${NEW},${OLD}`,
  CODEC_SERVER_TOKEN: TOKEN,
  CODEC_SERVER_CORS_ORIGINS: `${UI},http://127.0.0.1:8233`,
  API_TOKEN,
});

const json = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const bearer = { authorization: `Bearer ${TOKEN}` };

async function encryptedWithOldKey(value: unknown): Promise<Payload> {
  const [p] = await new AesGcmPayloadCodec({ keys: parsePayloadKeys(OLD), encrypt: true }).encode([
    defaultPayloadConverter.toPayload(value) as Payload,
  ]);
  return p as Payload;
}

describe('codec endpoint', () => {
  afterEach(() => {
    for (const line of logLines) expect(line).not.toContain(TOKEN);
    logLines.length = 0;
  });

  test('decode: a payload a rotated-out key encrypted comes back as the original; a plain one as it is', async () => {
    const encrypted = await encryptedWithOldKey({ text: SECRET });
    const plain = defaultPayloadConverter.toPayload('written before the codec') as Payload;
    const res = await post('/codec/decode', { payloads: [json(encrypted), json(plain)] }, bearer);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(body.payloads.map((p) => defaultPayloadConverter.fromPayload(fromJson(p)))).toEqual([
      { text: SECRET },
      'written before the codec',
    ]);
  });

  test('encode: encrypted with the current key, and /decode reverses it', async () => {
    const res = await post(
      '/codec/encode',
      { payloads: [json(defaultPayloadConverter.toPayload(SECRET) as Payload)] },
      bearer,
    );
    expect(res.status).toBe(200);
    const [encoded] = ((await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] })
      .payloads;
    expect(Buffer.from(encoded?.metadata['encryption-key-id'] ?? '', 'base64').toString()).toBe('new');
    expect(Buffer.from(encoded?.data ?? '', 'base64').toString('latin1')).not.toContain('4711');
    const back = await post('/codec/decode', { payloads: [encoded] }, bearer);
    expect(
      defaultPayloadConverter.fromPayload(
        fromJson(
          ((await back.json()) as { payloads: [{ metadata: Record<string, string>; data: string }] }).payloads[0],
        ),
      ),
    ).toBe(SECRET);
  });

  test('refused without a token, with a wrong one, the operator API token, or no Bearer scheme: 401 and nothing decoded', async () => {
    const encrypted = json(await encryptedWithOldKey(SECRET));
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: `Bearer ${API_TOKEN}` },
      { authorization: TOKEN },
      { authorization: 'Basic abc' },
    ]) {
      const res = await post('/codec/decode', { payloads: [encrypted] }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain(Buffer.from(SECRET).toString('base64'));
    }
    expect((await post('/codec/wrong-token-0123456789/decode', { payloads: [encrypted] })).status).toBe(401);
  });

  test('the token in the path (what a browser UI is configured with) works like the header', async () => {
    const res = await post(`/codec/${TOKEN}/decode`, { payloads: [json(await encryptedWithOldKey(SECRET))] });
    expect(res.status).toBe(200);
    const [p] = ((await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    expect(defaultPayloadConverter.fromPayload(fromJson(p as { metadata: Record<string, string>; data: string }))).toBe(
      SECRET,
    );
  });

  test('CORS: the configured UI origin gets a preflight and credentials; any other origin gets no CORS headers', async () => {
    const preflight = await app.request(`/codec/${TOKEN}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const ok = await post('/codec/decode', { payloads: [] }, { ...bearer, origin: UI });
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    const foreign = await post('/codec/decode', { payloads: [] }, { ...bearer, origin: 'https://evil.example' });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const foreignPreflight = await app.request('/codec/decode', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreignPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('another namespace, bad JSON, a malformed body or a key this deployment lacks: 400 naming the problem', async () => {
    expect((await post('/codec/decode', { payloads: [] }, { ...bearer, 'x-namespace': 'other' })).status).toBe(400);
    const badJson = await post('/codec/decode', '{nope', bearer);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const badBody = await post('/codec/decode', { payloads: [{ data: 'not base64!' }] }, bearer);
    expect(await badBody.json()).toEqual({
      error: { code: 'invalid_body', message: expect.stringContaining('payloads.0.data') },
    });
    const foreign = await new AesGcmPayloadCodec({
      keys: parsePayloadKeys(generatePayloadKeyEntry('elsewhere')),
      encrypt: true,
    }).encode([defaultPayloadConverter.toPayload('x') as Payload]);
    const cannot = await post('/codec/decode', { payloads: foreign.map(json) }, bearer);
    expect(cannot.status).toBe(400);
    expect(await cannot.json()).toEqual({
      error: { code: 'cannot_decode', message: expect.stringContaining('key elsewhere, which is not configured') },
    });
  });

  test('without CODEC_SERVER_TOKEN the endpoint answers 503, whatever is sent', async () => {
    const disabled = appWith({ PAYLOAD_ENCRYPTION_KEYS: OLD });
    const res = await disabled.request('/codec/decode', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"payloads":[]}',
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('codec_server_disabled');
  });
});
