/**
 * End to end on the dev server with the simulator's phones: operator API → update-with-start →
 * workflow → production RBM / Twilio clients → simulator, and the simulator's signed receipts and
 * TTL server events back through the webhook → workflow. Real time, so every timer is seconds.
 */
import { randomUUID } from 'node:crypto';
import { type Server } from 'node:http';

import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { pollUntil } from '../../dev/poll';
import { createActivities } from '../../src/activities';
import { buildActivityDeps } from '../../src/activities/deps';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { freePort } from '../helpers/ports';
import { startTestPlatform, type TestPlatform } from '../helpers/simulator';
import { createDevServerEnv, devServerAddress, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

const AGENT = 'delivery-e2e@rbm.goog';
const CLIENT_TOKEN = 'delivery-e2e-client-token';
const API_TOKEN = 'delivery-e2e-api-token-0123456789';
const TWILIO = { accountSid: 'ACe2e00000000000000000000000000000', authToken: 'delivery-e2e-twilio-token' };

interface ApiMessage {
  messageId: string;
  status: string;
  finished: boolean;
  revoke?: { state: string; source: string };
  sms?: { state: string; to?: string };
  expiry?: { reason: string };
  timestamps: Record<string, string>;
}

describe('delivery end to end: simulator phones, dev server, operator API', () => {
  let env: TestWorkflowEnvironment;
  let platform: TestPlatform;
  let server: Server;
  let worker: Worker;
  let running: Promise<void>;
  let apiUrl: string;

  beforeAll(async () => {
    env = await createDevServerEnv();
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    platform = await startTestPlatform({
      webhookBaseUrl: apiUrl,
      rbmClientToken: CLIENT_TOKEN,
      rbmAgentId: AGENT,
      twilio: TWILIO,
      defaults: { deliverAfterMs: 300, readAfterMs: 300 },
    });
    const taskQueue = uniqueTaskQueue('delivery-e2e');
    const config = loadConfig({
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      API_TOKEN,
      RBM_CLIENT_TOKEN: CLIENT_TOKEN,
      RBM_AGENT_ID: AGENT,
      RBM_API_BASE_URL: platform.url,
      BM_API_BASE_URL: platform.url,
      TWILIO_BASE_URL: platform.url,
      TWILIO_ACCOUNT_SID: TWILIO.accountSid,
      TWILIO_AUTH_TOKEN: TWILIO.authToken,
      SMS_FROM: '+15550001111',
      GOOGLE_APPLICATION_CREDENTIALS: platform.keyFile,
      OUTBOUND_HTTP_TIMEOUT_MS: '3000',
    });
    const conversations = new ConversationsClient({
      client: new Client({ connection: env.connection, namespace: 'default' }),
      taskQueue,
      timeoutMs: 10_000,
      workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
      startInput: { settings: { idleTimeout: '1 hour' } },
    });
    const app = createApp({ config, conversations, logger: silentLogger });
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: apiPort }, () => resolve(s as Server));
    });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: createActivities(buildActivityDeps(config, silentLogger)),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await platform?.stop();
    await env?.teardown();
  });

  /** A fresh number per test, so phones and conversations never share state. */
  function newPhone(): string {
    return `+1628${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  }
  const path = (msisdn: string) =>
    `${apiUrl}/v1/conversations/${encodeURIComponent(`rbm:${AGENT}:${msisdn}`)}/messages`;
  const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };

  async function post(msisdn: string, body: unknown): Promise<{ messageId: string; status: string }> {
    const res = await fetch(path(msisdn), {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { messageId: string; status: string };
  }

  async function message(msisdn: string, messageId: string): Promise<ApiMessage> {
    const res = await fetch(`${path(msisdn)}/${messageId}`, { headers });
    expect(res.status).toBe(200);
    return (await res.json()) as ApiMessage;
  }

  /** Waits until the workflow says the message's lifecycle is over (or `done` holds). */
  async function settled(
    msisdn: string,
    messageId: string,
    done: (m: ApiMessage) => boolean = (m) => m.finished,
  ): Promise<ApiMessage> {
    return pollUntil({
      what: `message ${messageId} settled`,
      read: () => message(msisdn, messageId),
      done,
      timeoutMs: 20_000,
      intervalMs: 100,
    });
  }

  const revokeCalls = (msisdn: string) =>
    platform.sim.calls({ phone: msisdn, api: 'rbm' }).filter((c) => c.direction === 'inbound' && c.method === 'DELETE');
  const smsTo = (msisdn: string) => platform.sim.sms().filter((s) => s.to === msisdn);

  test('a phone that delivers and reads: READ over the API, no revoke, no SMS', async () => {
    const msisdn = newPhone();
    const { messageId, status } = await post(msisdn, {
      text: 'Your parcel arrives today',
      delivery: { ttl: '60s', deliverWithin: '20s', fallbackSms: { text: 'Parcel today' } },
    });
    expect(status).toBe('SENT');
    const m = await settled(msisdn, messageId, (x) => x.status === 'READ');
    expect(m.timestamps).toEqual(
      expect.objectContaining({ SENT: expect.any(String), DELIVERED: expect.any(String), READ: expect.any(String) }),
    );
    expect(platform.sim.messages({ phone: msisdn })).toEqual([expect.objectContaining({ messageId, status: 'read' })]);
    expect(revokeCalls(msisdn)).toEqual([]);
    expect(smsTo(msisdn)).toEqual([]);
  });

  test('a phone that never delivers: deliverWithin passes → revoke at the platform, then one SMS', async () => {
    const msisdn = newPhone();
    platform.sim.configurePhone(msisdn, { deliverAfterMs: null });
    const { messageId } = await post(msisdn, {
      text: 'Table ready',
      delivery: { deliverWithin: '2s', fallbackSms: { text: 'Table ready (SMS)' } },
    });
    const m = await settled(msisdn, messageId);
    expect(m).toMatchObject({
      status: 'FALLBACK_SENT',
      expiry: { reason: 'deliver_within' },
      revoke: { state: 'revoked', source: 'explicit' },
    });
    expect(revokeCalls(msisdn)).toEqual([expect.objectContaining({ status: 200 })]);
    expect(platform.sim.messages({ phone: msisdn })).toEqual([expect.objectContaining({ status: 'revoked' })]);
    expect(smsTo(msisdn)).toEqual([expect.objectContaining({ body: 'Table ready (SMS)' })]);
  });

  test('TTL expiry with TTL_EXPIRATION_REVOKED: one SMS, no revoke call of ours', async () => {
    const msisdn = newPhone();
    platform.sim.configurePhone(msisdn, { deliverAfterMs: null, ttlOutcome: 'revoked' });
    const { messageId } = await post(msisdn, {
      text: 'Offer ends soon',
      delivery: { ttl: '2s', fallbackSms: { text: 'Offer (SMS)' } },
    });
    const m = await settled(msisdn, messageId);
    expect(m).toMatchObject({ status: 'FALLBACK_SENT', revoke: { state: 'revoked', source: 'ttl' } });
    expect(revokeCalls(msisdn)).toEqual([]);
    expect(smsTo(msisdn)).toHaveLength(1);
  });

  test('TTL expiry with TTL_EXPIRATION_REVOKE_FAILED and silence: our revoke succeeds after the grace → one SMS', async () => {
    const msisdn = newPhone();
    platform.sim.configurePhone(msisdn, { deliverAfterMs: null, ttlOutcome: 'revoke_failed' });
    const { messageId } = await post(msisdn, {
      text: 'OTP 1234',
      delivery: { ttl: '2s', revokeFailedGrace: '1s', fallbackSms: { text: 'OTP 1234' } },
    });
    const m = await settled(msisdn, messageId);
    expect(m).toMatchObject({
      status: 'FALLBACK_SENT',
      expiry: { reason: 'ttl_revoke_failed' },
      revoke: { state: 'revoked', source: 'explicit' },
    });
    expect(revokeCalls(msisdn)).toEqual([expect.objectContaining({ status: 200 })]);
    expect(smsTo(msisdn)).toHaveLength(1);
  });

  test('TTL expiry with TTL_EXPIRATION_REVOKE_FAILED and a revoke answered 404: recorded, no SMS (assume delivered)', async () => {
    const msisdn = newPhone();
    platform.sim.configurePhone(msisdn, { deliverAfterMs: null, ttlOutcome: 'revoke_failed' });
    platform.sim.addFault({ api: 'rbm', method: 'DELETE', phone: msisdn, status: 404 });
    const { messageId } = await post(msisdn, {
      text: 'Reminder',
      delivery: { ttl: '2s', revokeFailedGrace: '1s', fallbackSms: { text: 'Reminder (SMS)' } },
    });
    const m = await settled(msisdn, messageId);
    expect(m).toMatchObject({ status: 'EXPIRED', revoke: { state: 'not_revoked', source: 'explicit' } });
    expect(revokeCalls(msisdn)).toEqual([expect.objectContaining({ status: 404 })]);
    expect(smsTo(msisdn)).toEqual([]);
  });

  test('TTL_EXPIRATION_REVOKE_FAILED, then the phone delivers within the grace: DELIVERED, no revoke, no SMS', async () => {
    const msisdn = newPhone();
    platform.sim.configurePhone(msisdn, { deliverAfterMs: 3000, readAfterMs: null, ttlOutcome: 'revoke_failed' });
    const { messageId } = await post(msisdn, {
      text: 'Late but fine',
      delivery: { ttl: '1s', revokeFailedGrace: '10s', fallbackSms: { text: 'Late (SMS)' } },
    });
    const m = await settled(msisdn, messageId);
    expect(m).toMatchObject({ status: 'DELIVERED', expiry: { reason: 'ttl_revoke_failed' } });
    expect(revokeCalls(msisdn)).toEqual([]);
    expect(smsTo(msisdn)).toEqual([]);
  });

  test('a number without RCS: the platform answers 404 and the SMS goes out at once', async () => {
    const msisdn = newPhone();
    platform.sim.configurePhone(msisdn, { rcs: false });
    const { status, messageId } = await post(msisdn, {
      text: 'Hello',
      delivery: { fallbackSms: { text: 'Hello (SMS)' } },
    });
    expect(status).toBe('FALLBACK_SENT');
    expect((await message(msisdn, messageId)).sms).toMatchObject({ state: 'sent', to: msisdn });
    expect(smsTo(msisdn)).toHaveLength(1);
  });
});
