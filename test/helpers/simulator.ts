/**
 * Test harness for the outbound clients and the simulator: the simulator runs in-process on a free
 * port over real HTTP, with a service-account key generated at test time and written to a
 * temporary file (nothing committed). Clients are the production ones, built the way
 * src/activities/deps.ts builds them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { serve } from '@hono/node-server';
import { ApplicationFailure } from '@temporalio/common';
import { Hono } from 'hono';

import { type RunningSimulator, startSimulator } from '../../dev/simulator/server';
import { type SimulatorOptions } from '../../dev/simulator/simulator';
import { BmClient } from '../../src/channels/bm/client';
import { createChannelGateway } from '../../src/channels/gateway';
import {
  BM_SCOPE,
  RBM_SCOPE,
  type ServiceAccountTokenOptions,
  serviceAccountTokenSource,
} from '../../src/channels/google-auth';
import { RbmClient } from '../../src/channels/rbm/client';
import { silentLogger } from '../../src/logger';
import { freePort } from './ports';

export interface TestPlatform extends RunningSimulator {
  /** The generated key, written to a temp file (GOOGLE_APPLICATION_CREDENTIALS for the clients). */
  keyFile: string;
  rbm(extra?: Partial<ServiceAccountTokenOptions> & { timeoutMs?: number }): RbmClient;
  bm(extra?: Partial<ServiceAccountTokenOptions> & { timeoutMs?: number }): BmClient;
  gateway(extra?: { timeoutMs?: number }): ReturnType<typeof createChannelGateway>;
  stop(): Promise<void>;
}

export async function startTestPlatform(options: SimulatorOptions = {}): Promise<TestPlatform> {
  const running = await startSimulator({
    port: await freePort(),
    webhookRetry: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 4, attemptTimeoutMs: 2000 },
    ...options,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'switchboard-sim-'));
  const keyFile = path.join(dir, 'service-account.json');
  writeFileSync(keyFile, JSON.stringify(running.sim.serviceAccountKey()), { mode: 0o600 });

  const tokens = (scope: string, extra: Partial<ServiceAccountTokenOptions> = {}) =>
    serviceAccountTokenSource({ key: { file: keyFile }, scopes: [scope], timeoutMs: 2000, ...extra });
  const rbm: TestPlatform['rbm'] = ({ timeoutMs = 2000, ...extra } = {}) =>
    new RbmClient({ baseUrl: running.url, tokens: tokens(RBM_SCOPE, extra), timeoutMs });
  const bm: TestPlatform['bm'] = ({ timeoutMs = 2000, ...extra } = {}) =>
    new BmClient({ baseUrl: running.url, tokens: tokens(BM_SCOPE, extra), timeoutMs });
  return {
    ...running,
    keyFile,
    rbm,
    bm,
    gateway: ({ timeoutMs } = {}) =>
      createChannelGateway({
        rbm: rbm({ ...(timeoutMs ? { timeoutMs } : {}) }),
        bm: bm({ ...(timeoutMs ? { timeoutMs } : {}) }),
        logger: silentLogger,
      }),
    stop: async () => {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` and returns the ApplicationFailure it threw (fails the test if it threw anything else or nothing). */
export async function failureOf(fn: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  }
  throw new Error('expected an ApplicationFailure, but the call succeeded');
}

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  /** The exact bytes received. */
  raw: Buffer;
}

/**
 * A tiny webhook receiver over real HTTP: records every request and answers with `respond`
 * (default 200). `next(predicate)` resolves on the first matching request, past or future.
 */
export async function startReceiver(respond: (req: ReceivedWebhook, index: number) => number = () => 200) {
  const received: ReceivedWebhook[] = [];
  let waiters: { predicate: (r: ReceivedWebhook) => boolean; resolve: (r: ReceivedWebhook) => void }[] = [];
  const app = new Hono();
  app.post('*', async (c) => {
    const req: ReceivedWebhook = {
      path: c.req.path,
      headers: c.req.header(),
      raw: Buffer.from(await c.req.arrayBuffer()),
    };
    received.push(req);
    const status = respond(req, received.length - 1);
    for (const w of [...waiters]) {
      if (w.predicate(req)) {
        waiters = waiters.filter((x) => x !== w);
        w.resolve(req);
      }
    }
    // 204, 205 and 304 carry no body.
    if (status === 204 || status === 205 || status === 304) return c.body(null, status as 204);
    return c.body(status === 200 ? 'ok' : 'nope', status as 200);
  });
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({ server: s as Server, port: info.port }),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    next(predicate: (r: ReceivedWebhook) => boolean = () => true, timeoutMs = 10_000): Promise<ReceivedWebhook> {
      const existing = received.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching webhook within the timeout')), timeoutMs);
        waiters.push({ predicate, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      });
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** The decoded `message.data` of an RBM webhook body. */
export function rbmData(req: ReceivedWebhook): Record<string, unknown> {
  const envelope = JSON.parse(req.raw.toString('utf8')) as { message: { data: string } };
  return JSON.parse(Buffer.from(envelope.message.data, 'base64').toString('utf8')) as Record<string, unknown>;
}

export function bmBody(req: ReceivedWebhook): Record<string, unknown> {
  return JSON.parse(req.raw.toString('utf8')) as Record<string, unknown>;
}
