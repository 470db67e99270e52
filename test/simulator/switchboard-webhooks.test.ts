/**
 * Webhook statuses as Google sees them: the simulator posts (signed like Google, retried with
 * back-off on anything but 200) to Switchboard's API served over real HTTP (createApp), which
 * signals the shared dev server. Every status of the contract (docs/architecture.md, "How a
 * conversation works") goes through it: 200 accepted, 200 stored, 401, 413, 503; the same
 * statuses through app.request are in test/webhooks/.
 */
import { randomUUID } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo, connect, createServer, type Server as TcpServer, type Socket } from 'node:net';

import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { pollUntil } from '../../dev/poll';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/server';
import { createApp } from '../../src/api/app';
import { digest } from '../../src/channels/inbound-payload';
import { loadConfig } from '../../src/config';
import { rbmConversationKey } from '../../src/domain/conversation-key';
import { silentLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../../src/temporal-client/unrecognized-payload-store';
import { freePort } from '../helpers/ports';
import { createDevServerEnv, devServerAddress, uniqueTaskQueue } from '../helpers/temporal';
import { trackTemporalCalls } from '../webhooks/harness';

const TOKEN = 'contract-client-token';
const AGENT = 'contract@rbm.goog';
const BODY_LIMIT = 64 * 1024;

interface Api {
  url: string;
  server: Server;
  conversations: ConversationsClient;
  store: UnrecognizedPayloadStore;
  client: Client;
  settled(): Promise<void>;
}

type Outcome = { status: number | null; attempts: number; delivered: boolean };

async function serveApi(temporalAddress: string, env: Record<string, string> = {}, client?: Client): Promise<Api> {
  const taskQueue = uniqueTaskQueue('sim-contract');
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    RBM_CLIENT_TOKEN: TOKEN,
    BM_CLIENT_TOKEN: TOKEN,
    API_TOKEN: 'contract-api-token-0123',
    WEBHOOK_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    ...env,
  });
  const temporal = client ?? createLazyClient(config.temporal);
  const conversations = new ConversationsClient({
    client: temporal,
    taskQueue,
    timeoutMs: config.temporal.signalTimeoutMs,
    workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
  });
  const store = new UnrecognizedPayloadStore({
    client: temporal,
    taskQueue,
    timeoutMs: config.temporal.signalTimeoutMs,
  });
  const app = createApp({ config, conversations, logger: silentLogger, unrecognizedPayloads: store });
  const calls = trackTemporalCalls(conversations, store);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        server: server as Server,
        conversations,
        store,
        client: temporal,
        settled: () => calls.settled(),
      }),
    );
  });
}

/** Stops serving; the calls a 503 left running end by their own deadline before the connection may close. */
async function closeApi(api: Api | undefined, closeConnection = false): Promise<void> {
  if (!api) return;
  api.server.closeAllConnections();
  await new Promise<void>((resolve) => api.server.close(() => resolve()));
  await api.settled();
  if (closeConnection) await api.client.connection.close().catch(() => undefined);
}

/** The id the API gives a kept payload: a digest of the channel and the signed bytes. */
const keptId = (channel: 'rbm' | 'bm', signed: string) =>
  digest(Buffer.concat([Buffer.from(`${channel}\n`), Buffer.from(signed)]));

describe("simulator webhooks against Switchboard's webhook routes", () => {
  let env: TestWorkflowEnvironment;
  let api: Api;

  beforeAll(async () => {
    env = await createDevServerEnv();
    api = await serveApi(devServerAddress(), {}, new Client({ connection: env.connection, namespace: 'default' }));
  });
  afterAll(async () => {
    await closeApi(api);
    await env?.teardown();
  });

  const act = async (sim: RunningSimulator, path: string, body: unknown) => {
    const res = await fetch(`${sim.url}/sim/users/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { conversation: string; webhook: Outcome };
  };
  const raw = async (sim: RunningSimulator, channel: 'rbm' | 'bm', body: unknown) => {
    const res = await fetch(`${sim.url}/sim/webhooks/${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { webhook: Outcome }).webhook;
  };

  test('signed with the configured client token: accepted (RBM and Business Messages)', async () => {
    const sim = await startSimulator({
      webhookBaseUrl: api.url,
      rbmClientToken: TOKEN,
      bmClientToken: TOKEN,
      rbmAgentId: AGENT,
    });
    const started: string[] = [];
    try {
      const rbm = await act(sim, `rbm/${encodeURIComponent('+14155550166')}/text`, { text: 'hello' });
      expect(rbm.webhook).toEqual({ status: 200, attempts: 1, delivered: true });
      const bm = await act(sim, `bm/contract-${randomUUID()}/text`, { text: 'hola' });
      expect(bm.webhook).toEqual({ status: 200, attempts: 1, delivered: true });
      started.push(rbm.conversation, bm.conversation);
    } finally {
      await sim.close();
      for (const key of started)
        await env.client.workflow
          .getHandle(api.conversations.workflowId(key))
          .terminate('test over')
          .catch(() => undefined);
    }
  });

  test('an agent launch event, a new kind, a schema violation, data that is not JSON: each acknowledged at the first attempt, the unknown ones kept', async () => {
    const sim = await startSimulator({
      webhookBaseUrl: api.url,
      rbmClientToken: TOKEN,
      bmClientToken: TOKEN,
      rbmAgentId: AGENT,
      webhookRetry: { maxAttempts: 3, baseDelayMs: 10 },
    });
    try {
      const launch = {
        eventId: `launch-${randomUUID()}`,
        agentId: AGENT,
        regionId: '/v1/regions/fi-rcs',
        oldLaunchState: 'LAUNCH_STATE_PENDING',
        newLaunchState: 'LAUNCH_STATE_LAUNCHED',
        actingParty: 'CARRIER',
        sendTime: new Date().toISOString(),
      };
      expect(await raw(sim, 'rbm', { data: launch })).toEqual({ status: 200, attempts: 1, delivered: true });

      const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
      const kept: [channel: 'rbm' | 'bm', signed: string, kind: string][] = [
        [
          'rbm',
          JSON.stringify({
            senderPhoneNumber: phone,
            agentId: AGENT,
            eventType: 'REACTION',
            eventId: `ev-${randomUUID()}`,
          }),
          'rbm.user_event.REACTION',
        ],
        [
          'rbm',
          JSON.stringify({
            senderPhoneNumber: phone,
            agentId: AGENT,
            messageId: `m-${randomUUID()}`,
            location: { latitude: 'north', longitude: 2.35 },
          }),
          'rbm.user_message',
        ],
        ['rbm', `not json ${randomUUID()}`, 'rbm.malformed_json'],
        [
          'bm',
          JSON.stringify({ conversationId: randomUUID(), requestId: randomUUID(), reaction: { emoji: '👍' } }),
          'bm.unknown',
        ],
      ];
      for (const [channel, signed, kind] of kept) {
        const outcome = await raw(sim, channel, channel === 'rbm' ? { dataText: signed } : { bodyText: signed });
        expect({ kind, ...outcome }).toEqual({ kind, status: 200, attempts: 1, delivered: true });
        // No worker runs here, so the kept entry is read from its start (memo), not queried.
        const entry = await env.client.workflow.getHandle(api.store.workflowId(keptId(channel, signed))).describe();
        expect({ kind: entry.memo?.kind, running: entry.status.name }).toEqual({ kind, running: 'RUNNING' });
      }
      // Nothing of that reached a conversation, and nothing was posted twice.
      expect(
        await env.client.workflow
          .getHandle(api.conversations.workflowId(rbmConversationKey(AGENT, phone)))
          .describe()
          .catch(() => undefined),
      ).toBeUndefined();
      expect(sim.sim.calls({ direction: 'webhook' }).filter((c) => c.attempt !== 1)).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  test('signed with another token: 401, and the simulator keeps retrying as Google would', async () => {
    const sim = await startSimulator({
      webhookBaseUrl: api.url,
      rbmClientToken: 'not-the-token',
      bmClientToken: 'not-the-token',
      webhookRetry: { maxAttempts: 2, baseDelayMs: 10 },
    });
    try {
      const rbm = await act(sim, `rbm/${encodeURIComponent('+14155550167')}/text`, { text: 'forged' });
      expect(rbm.webhook).toMatchObject({ status: 401, delivered: false });
      const bm = await act(sim, 'bm/contract-forged/text', { text: 'forged' });
      expect(bm.webhook).toMatchObject({ status: 401, delivered: false });
      // One queue per channel: each retries on its own, so compare per channel.
      for (const channel of ['rbm', 'bm']) {
        await sim.sim.waitForCall((c) => c.direction === 'webhook' && c.api === channel && c.attempt === 2);
        expect(sim.sim.calls({ direction: 'webhook', api: channel }).map((c) => [c.attempt, c.status])).toEqual([
          [1, 401],
          [2, 401],
        ]);
      }
    } finally {
      await sim.close();
    }
  });

  test('a body over WEBHOOK_BODY_LIMIT_BYTES: 413 at every attempt, retried', async () => {
    const sim = await startSimulator({
      webhookBaseUrl: api.url,
      rbmClientToken: TOKEN,
      rbmAgentId: AGENT,
      webhookRetry: { maxAttempts: 2, baseDelayMs: 10 },
    });
    try {
      const text = 'x'.repeat(BODY_LIMIT);
      const outcome = await raw(sim, 'rbm', {
        data: { senderPhoneNumber: '+14155550168', agentId: AGENT, messageId: `big-${randomUUID()}`, text },
      });
      expect(outcome).toMatchObject({ status: 413, delivered: false });
      await sim.sim.waitForCall((c) => c.direction === 'webhook' && c.attempt === 2);
      expect(sim.sim.calls({ direction: 'webhook' }).map((c) => [c.attempt, c.status])).toEqual([
        [1, 413],
        [2, 413],
      ]);
    } finally {
      await sim.close();
    }
  });

  test('Temporal unreachable: 503 and the simulator retries with back-off; once Temporal is back the same delivery is acknowledged and reaches its conversation', async () => {
    // The API reaches Temporal through a TCP relay that does not listen yet: a real refused connection.
    const relayPort = await freePort();
    const down = await serveApi(`127.0.0.1:${relayPort}`, { TEMPORAL_SIGNAL_TIMEOUT_MS: '1000' });
    const sim = await startSimulator({
      webhookBaseUrl: down.url,
      rbmClientToken: TOKEN,
      rbmAgentId: AGENT,
      webhookRetry: { maxAttempts: 12, baseDelayMs: 200, maxDelayMs: 2000 },
    });
    let relay: TcpServer | undefined;
    const sockets = new Set<Socket>();
    try {
      const phone = '+14155550169';
      const first = await act(sim, `rbm/${encodeURIComponent(phone)}/text`, { text: 'are you there?' });
      expect(first.webhook).toMatchObject({ status: 503, delivered: false });
      await sim.sim.waitForCall((c) => c.direction === 'webhook' && c.attempt === 2);

      const [host, port] = devServerAddress().split(':');
      relay = createServer((inbound) => {
        const outbound = connect(Number(port), host);
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => s.destroy());
          s.on('close', () => sockets.delete(s));
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      await new Promise<void>((resolve) => relay?.listen(relayPort, '127.0.0.1', resolve));

      const accepted = await sim.sim.waitForCall((c) => c.direction === 'webhook' && c.status === 200, 40_000);
      const attempts = sim.sim.calls({ direction: 'webhook' });
      expect(attempts.slice(0, -1).every((c) => c.status === 503)).toBe(true);
      expect(accepted.attempt).toBe(attempts.length);
      expect(accepted.attempt).toBeGreaterThanOrEqual(3);
      // The same delivery (same bytes) each time; the one that was acknowledged is in Temporal.
      await pollUntil({
        what: 'the conversation',
        read: () =>
          env.client.workflow
            .getHandle(down.conversations.workflowId(rbmConversationKey(AGENT, phone)))
            .describe()
            .then(
              () => true,
              () => false,
            ),
        done: (exists) => exists,
        intervalMs: 100,
      });
      await env.client.workflow
        .getHandle(down.conversations.workflowId(rbmConversationKey(AGENT, phone)))
        .terminate('test over');
    } finally {
      await sim.close();
      await closeApi(down, true);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
    }
  }, 90_000);
});
