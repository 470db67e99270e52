/**
 * The simulator's webhooks against Switchboard's own HTTP API (createApp, real webhook routes,
 * signals to the shared dev server): correctly signed posts are accepted, posts signed with
 * another client token are refused, for both channels.
 */
import { randomUUID } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../src/api/app';
import { ConversationGateway } from '../../src/api/conversation-gateway';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { type RunningSimulator, startSimulator } from '../../src/simulator/server';
import { createDevServerEnv, devServerAddress, uniqueTaskQueue } from '../helpers/temporal';

const TOKEN = 'contract-client-token';

describe("simulator webhooks against Switchboard's webhook routes", () => {
  let env: TestWorkflowEnvironment;
  let api: { url: string; server: Server };
  let conversations: ConversationGateway;

  beforeAll(async () => {
    env = await createDevServerEnv();
    const taskQueue = uniqueTaskQueue('sim-contract');
    const config = loadConfig({ TEMPORAL_ADDRESS: devServerAddress(), TEMPORAL_TASK_QUEUE: taskQueue, RBM_CLIENT_TOKEN: TOKEN, BM_CLIENT_TOKEN: TOKEN, API_TOKEN: 'contract-api-token-0123' });
    conversations = new ConversationGateway({ client: new Client({ connection: env.connection, namespace: 'default' }), taskQueue, timeoutMs: 5000, workflowIds: { revealPhoneNumbers: false, secret: randomUUID() } });
    const app = createApp({ config, conversations, logger: silentLogger });
    api = await new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ url: `http://127.0.0.1:${info.port}`, server: server as Server }));
    });
  });
  afterAll(async () => {
    api.server.closeAllConnections();
    await new Promise<void>((resolve) => api.server.close(() => resolve()));
    await env?.teardown();
  });

  const act = async (sim: RunningSimulator, path: string, body: unknown) => {
    const res = await fetch(`${sim.url}/sim/users/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as { conversation: string; webhook: { status: number | null; delivered: boolean } };
  };

  test('signed with the configured client token: accepted (RBM and Business Messages)', async () => {
    const sim = await startSimulator({ webhookBaseUrl: api.url, rbmClientToken: TOKEN, bmClientToken: TOKEN, rbmAgentId: 'contract@rbm.goog' });
    const started: string[] = [];
    try {
      const rbm = await act(sim, `rbm/${encodeURIComponent('+14155550166')}/text`, { text: 'hello' });
      expect(rbm.webhook).toEqual({ status: 200, attempts: 1, delivered: true });
      const bm = await act(sim, `bm/contract-${randomUUID()}/text`, { text: 'hola' });
      expect(bm.webhook).toEqual({ status: 200, attempts: 1, delivered: true });
      started.push(rbm.conversation, bm.conversation);
    } finally {
      await sim.close();
      for (const key of started) await env.client.workflow.getHandle(conversations.workflowId(key)).terminate('test over').catch(() => undefined);
    }
  });

  test('signed with another token: refused, and the simulator keeps retrying as Google would', async () => {
    const sim = await startSimulator({ webhookBaseUrl: api.url, rbmClientToken: 'not-the-token', bmClientToken: 'not-the-token', webhookRetry: { maxAttempts: 2, baseDelayMs: 10 } });
    try {
      const rbm = await act(sim, `rbm/${encodeURIComponent('+14155550167')}/text`, { text: 'forged' });
      expect(rbm.webhook).toMatchObject({ status: 401, delivered: false });
      const bm = await act(sim, 'bm/contract-forged/text', { text: 'forged' });
      expect(bm.webhook).toMatchObject({ status: 401, delivered: false });
      // One queue per channel: each retries on its own, so compare per channel.
      for (const api of ['rbm', 'bm']) {
        await sim.sim.waitForCall((c) => c.direction === 'webhook' && c.api === api && c.attempt === 2);
        expect(sim.sim.calls({ direction: 'webhook', api }).map((c) => [c.attempt, c.status])).toEqual([
          [1, 401],
          [2, 401],
        ]);
      }
    } finally {
      await sim.close();
    }
  });
});
