/**
 * The API as deployed (createApp) on a real Temporal server, with a Worker running both
 * conversation and unrecognized-payload workflows on a task queue of its own.
 */
import { randomUUID } from 'node:crypto';

import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { type Hono } from 'hono';

import { pollUntil } from '../../dev/poll';
import { createApp } from '../../src/api/app';
import { type WebhookAppDeps } from '../../src/api/webhooks';
import { loadConfig } from '../../src/config';
import { type ConversationKey } from '../../src/domain/conversation-key';
import { type Logger, silentLogger } from '../../src/logger';
import { type RoutingConfig } from '../../src/routing';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../../src/temporal-client/unrecognized-payload-store';
import { type ConversationSettings, type ConversationView } from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

export const RBM_TOKEN = 'rbm-test-client-token';
export const BM_TOKEN = 'bm-test-client-token';
/** An RBM agent with a webhook (and token) of its own. */
export const OWN_TOKEN_AGENT = 'own-webhook@rbm.goog';
export const OWN_AGENT_TOKEN = 'own-webhook-agent-token';
export const API_TOKEN = 'webhook-tests-operator-token';

export interface Harness {
  app: Hono;
  deps: WebhookAppDeps;
  client: Client;
  conversations: ConversationsClient;
  store: UnrecognizedPayloadStore;
  taskQueue: string;
  post(path: string, body: RequestInit['body'], headers?: Record<string, string>): Promise<Response>;
  /** True when Temporal knows a workflow for the conversation (any run, any status). */
  workflowExists(key: ConversationKey): Promise<boolean>;
  /** Polls the conversation's state query until `ready` holds (or fails after `timeoutMs`). */
  stateWhen(
    key: ConversationKey,
    ready: (state: ConversationView) => boolean,
    timeoutMs?: number,
  ): Promise<ConversationView>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra configuration variables (e.g. WEBHOOK_BODY_LIMIT_BYTES). */
  env?: Record<string, string>;
  logger?: Logger;
  /** Run a Worker (default true); without one, signals are accepted but no workflow code runs. */
  worker?: boolean;
  /** Conversation settings every new run starts with (e.g. a short idle timeout). */
  settings?: Partial<ConversationSettings>;
  /** A routing file every new run starts with (default: none, every message goes to the default queue). */
  routing?: RoutingConfig;
  /** Activities of the worker (default: recording ones). */
  activities?: ReturnType<typeof recordingActivities>['activities'];
}

export async function startHarness(env: TestWorkflowEnvironment, options: HarnessOptions = {}): Promise<Harness> {
  const { env: extraEnv = {}, logger = silentLogger } = options;
  const taskQueue = uniqueTaskQueue('webhooks');
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.connection.options.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    RBM_CLIENT_TOKEN: RBM_TOKEN,
    BM_CLIENT_TOKEN: BM_TOKEN,
    RBM_CLIENT_TOKENS: JSON.stringify({ [OWN_TOKEN_AGENT]: OWN_AGENT_TOKEN }),
    API_TOKEN,
    ...extraEnv,
  });
  const client = new Client({ connection: env.connection, namespace: 'default' });
  const startInput = {
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.routing ? { routing: options.routing } : {}),
  };
  const conversations = new ConversationsClient({
    client,
    taskQueue,
    timeoutMs: 5000,
    workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
    startInput,
  });
  const store = new UnrecognizedPayloadStore({ client, taskQueue, timeoutMs: 5000 });
  const deps: WebhookAppDeps = { config, conversations, logger, unrecognizedPayloads: store };
  const app = createApp(deps);

  const worker =
    options.worker === false
      ? undefined
      : await Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          workflowBundle: workflowBundle(),
          activities: options.activities ?? recordingActivities().activities,
        });
  const running = worker?.run();

  return {
    app,
    deps,
    client,
    conversations,
    store,
    taskQueue,
    post: (path, body, headers = {}) => Promise.resolve(app.request(path, { method: 'POST', body, headers })),
    async workflowExists(key) {
      try {
        await client.workflow.getHandle(conversations.workflowId(key)).describe();
        return true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
    async stateWhen(key, ready, timeoutMs = 15_000) {
      const state = await pollUntil({
        what: `state of ${key}`,
        read: () => conversations.getState(key),
        done: (s) => s !== undefined && ready(s),
        timeoutMs,
        intervalMs: 100,
      });
      // pollUntil returns only a value `done` accepted, and that excludes undefined.
      return state as ConversationView;
    },
    async stop() {
      worker?.shutdown();
      await running;
    },
  };
}

/**
 * Records the promises of a real gateway's and store's Temporal calls. A webhook answers 503 at its
 * bound while the client may still be retrying in the background; closing the connection under such
 * a call crashes grpc-js, so tests wait for `settled()` before closing.
 */
export function trackTemporalCalls(
  conversations: ConversationsClient,
  store: UnrecognizedPayloadStore,
): { settled(): Promise<void> } {
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.catch(() => undefined).finally(() => inflight.delete(p));
    return p;
  };
  const deliver = conversations.deliver.bind(conversations);
  conversations.deliver = (key, events, options) => track(deliver(key, events, options));
  const keep = store.keep.bind(store);
  store.keep = (payload, delivery) => track(keep(payload, delivery));
  return {
    async settled() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
