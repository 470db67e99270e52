/**
 * The simulator's control API and its platform-level behaviour: call log filters, fault rules
 * (N calls, fractions, latency, per phone), seeded determinism, the OAuth assertion checks and the
 * service-account key file.
 */
import { createSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type CallRecord } from '../../dev/simulator/calls';
import { generateServiceAccount, loadOrCreateServiceAccountFile, verifyAssertion } from '../../dev/simulator/oauth';
import { SeededRandom } from '../../dev/simulator/rng';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/server';
import { startReceiver, startTestPlatform, type TestPlatform } from '../helpers/simulator';

const AGENT = 'ctl@rbm.goog';

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('simulator control API', () => {
  let platform: TestPlatform;
  beforeEach(async () => {
    platform = await startTestPlatform({ defaults: { deliverAfterMs: null } });
  });
  afterEach(async () => {
    await platform.stop();
  });

  const sendTo = (rbm: ReturnType<TestPlatform['rbm']>, msisdn: string, messageId: string) =>
    rbm.createAgentMessage({ agentId: AGENT, msisdn, messageId, message: { contentMessage: { text: 'x' } } });

  test('GET /sim/calls lists every call and filters by phone (+ unencoded) and conversation', async () => {
    const rbm = platform.rbm();
    await sendTo(rbm, '+14155550001', 'a-1');
    await sendTo(rbm, '+14155550002', 'b-1');
    await platform.gateway().sendMessage({
      conversationKey: 'bm:conv-x',
      messageId: 'c-1',
      representative: { type: 'BOT' },
      content: { text: 'x' },
    });

    const all = await getJson<{ calls: CallRecord[] }>(`${platform.url}/sim/calls`);
    expect(all.calls.map((c) => c.api)).toEqual(['oauth', 'rbm', 'rbm', 'oauth', 'bm']);
    expect(all.calls[1]).toEqual({
      id: 2,
      time: expect.any(String),
      direction: 'inbound',
      api: 'rbm',
      method: 'POST',
      path: '/v1/phones/+14155550001/agentMessages',
      query: { messageId: 'a-1', agentId: AGENT },
      body: { contentMessage: { text: 'x' } },
      status: 200,
      durationMs: expect.any(Number),
      phone: '+14155550001',
      conversation: `rbm:${AGENT}:+14155550001`,
    });

    const byPhone = await getJson<{ calls: CallRecord[] }>(`${platform.url}/sim/calls?phone=+14155550002`);
    expect(byPhone.calls.map((c) => c.query.messageId)).toEqual(['b-1']);
    const byKey = await getJson<{ calls: CallRecord[] }>(
      `${platform.url}/sim/calls?conversation=${encodeURIComponent(`rbm:${AGENT}:+14155550001`)}`,
    );
    expect(byKey.calls.map((c) => c.query.messageId)).toEqual(['a-1']);
    const byBm = await getJson<{ calls: CallRecord[] }>(`${platform.url}/sim/calls?conversation=conv-x`);
    expect(byBm.calls.map((c) => (c.body as { messageId: string }).messageId)).toEqual(['c-1']);
    const messages = await getJson<{ messages: unknown[] }>(`${platform.url}/sim/messages?phone=+14155550001`);
    expect(messages.messages).toEqual([expect.objectContaining({ messageId: 'a-1', status: 'pending' })]);
  });

  test('faults over HTTP: N calls, per phone, latency; bad rules are refused; reset forgets everything', async () => {
    const phone = '+14155550003';
    expect((await postJson(`${platform.url}/sim/faults`, { api: 'rbm', phone, status: 500, times: 2 })).status).toBe(
      201,
    );
    expect(
      (
        await postJson(`${platform.url}/sim/faults`, {
          api: 'rbm',
          pathContains: 'capabilities',
          latencyMs: 150,
          times: 1,
        })
      ).status,
    ).toBe(201);
    expect((await postJson(`${platform.url}/sim/faults`, { api: 'rbm' })).status).toBe(400);
    expect((await postJson(`${platform.url}/sim/faults`, { status: 700 })).status).toBe(400);

    const rbm = platform.rbm();
    await expect(sendTo(rbm, phone, 'f-1')).rejects.toThrow('HTTP 500');
    await expect(sendTo(rbm, phone, 'f-1')).rejects.toThrow('HTTP 500');
    await sendTo(rbm, phone, 'f-1');
    await sendTo(rbm, '+14155550004', 'other-1');
    await rbm.getCapabilities({ agentId: AGENT, msisdn: phone, requestId: 'r-1' });

    const calls = platform.sim.calls({ api: 'rbm' });
    expect(calls.map((c) => c.status)).toEqual([500, 500, 200, 200, 200]);
    expect(calls[0]?.fault).toBe('fault-1, status 500');
    expect(calls[4]?.durationMs).toBeGreaterThanOrEqual(140);
    expect((await getJson<{ faults: unknown[] }>(`${platform.url}/sim/faults`)).faults).toEqual([]);

    expect((await postJson(`${platform.url}/sim/reset`, {})).status).toBe(200);
    expect(platform.sim.calls()).toEqual([]);
    expect(platform.sim.messages()).toEqual([]);
  });

  test('fractional faults and generated ids repeat for the same seed', async () => {
    const run = async (seed: number) => {
      const receiver = await startReceiver();
      const sim: RunningSimulator = await startSimulator({ seed, webhookBaseUrl: receiver.url });
      try {
        sim.sim.addFault({ api: 'twilio', status: 503, probability: 0.5 });
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++) {
          const res = await fetch(`${sim.url}/2010-04-01/Accounts/AC1/Messages.json`, {
            method: 'POST',
            headers: {
              authorization: `Basic ${Buffer.from('AC1:t').toString('base64')}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({ To: '+14155550005', From: '+15550001111', Body: `m${i}` }).toString(),
          });
          statuses.push(res.status);
        }
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await postJson(`${sim.url}/sim/users/rbm/%2B14155550005/text`, { text: 'hi' });
          ids.push(((await res.json()) as { messageId: string }).messageId);
        }
        return { statuses, ids, sms: sim.sim.sms().map((m) => m.sid) };
      } finally {
        await sim.close();
        await receiver.close();
      }
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a).toEqual(b);
    expect(a.statuses).toContain(503);
    expect(a.statuses).toContain(201);
    expect(c).not.toEqual(a);
  });
});

describe('simulator OAuth checks and key file', () => {
  const account = generateServiceAccount(new SeededRandom(3), 'http://sim/token');
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const jwt = (
    claims: Record<string, unknown>,
    header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' },
    key = account.key.private_key,
  ) => {
    const unsigned = `${b64(header)}.${b64(claims)}`;
    return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url')}`;
  };
  const now = Math.floor(Date.now() / 1000);
  const good = {
    iss: account.key.client_email,
    scope: 'https://www.googleapis.com/auth/rcsbusinessmessaging',
    aud: 'http://sim/token',
    iat: now,
    exp: now + 3600,
  };

  test('accepts a well-formed assertion and refuses each way of getting it wrong', () => {
    expect(verifyAssertion(jwt(good), account, ['http://sim/token'])).toEqual({ ok: true, claims: good });
    const other = generateServiceAccount(new SeededRandom(4), 'http://sim/token');
    const refusals = [
      jwt(good, { alg: 'RS256' }, other.key.private_key),
      jwt({ ...good, aud: 'https://oauth2.googleapis.com/token' }),
      jwt({ ...good, iss: 'someone@else.iam.gserviceaccount.com' }),
      jwt({ ...good, iat: now - 7200, exp: now - 3600 }),
      jwt({ ...good, exp: now + 7200 }),
      jwt({ ...good, scope: '' }),
      `${b64({ alg: 'none' })}.${b64(good)}.`,
      'not-a-jwt',
    ];
    for (const assertion of refusals) expect(verifyAssertion(assertion, account, ['http://sim/token']).ok).toBe(false);
  });

  test('the key file is created (0600) when missing, reused when present, and follows the token URI', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-key-'));
    try {
      const file = path.join(dir, 'nested', 'sa.json');
      const first = loadOrCreateServiceAccountFile(file, 'http://127.0.0.1:1/token', new SeededRandom(1));
      expect(first.created).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const second = loadOrCreateServiceAccountFile(file, 'http://127.0.0.1:2/token', new SeededRandom(1));
      expect(second.created).toBe(false);
      expect(second.account.key.private_key).toBe(first.account.key.private_key);
      expect(JSON.parse(readFileSync(file, 'utf8')).token_uri).toBe('http://127.0.0.1:2/token');
      writeFileSync(file, '{"not":"a key"}');
      expect(loadOrCreateServiceAccountFile(file, 'http://127.0.0.1:2/token', new SeededRandom(1)).created).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
