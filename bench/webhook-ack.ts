/**
 * Webhook acknowledgement latency: how long Google waits for our 200. Starts its own Temporal dev
 * server, a Worker and the API over real HTTP (@hono/node-server), then posts N sequential, signed
 * RBM deliveries (user text messages, DELIVERED, READ and IS_TYPING events spread over a few
 * conversations) and measures each request from send to the end of the response. Prints
 * p50/p90/p99/max, checks every event reached its conversation, and writes JSON to bench/results/.
 *
 *   npx tsx bench/webhook-ack.ts [--events 1000] [--warmup 50] [--conversations 20] [--db]
 *
 * `--db` runs the dev server on a SQLite file (WAL) instead of in memory, like `npm start`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { serve } from '@hono/node-server';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';

import { projectRoot, readTemporalBinaries } from '../dev/binaries';
import { DevServer } from '../dev/dev-server';
import { createApp } from '../src/api/app';
import { type WebhookAppDeps } from '../src/api/webhooks';
import { computeSignature } from '../src/channels/signature';
import { loadConfig } from '../src/config';
import { type ConversationKey, rbmConversationKey } from '../src/domain/conversation-key';
import { silentLogger } from '../src/logger';
import { createLazyClient } from '../src/temporal/connections';
import { payloadDataConverter } from '../src/temporal/payload-codec';
import { generatePayloadKeyEntry } from '../src/temporal/payload-keys';
import { buildWorker } from '../src/temporal/worker-factory';
import { ConversationsClient } from '../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../src/temporal-client/unrecognized-payload-store';
import { freePort } from '../test/helpers/ports';
import { recordingActivities } from '../test/helpers/recording-activities';
import { pollUntilOrLast } from './lib/poll';
import { percentile, round } from './lib/stats';

const TOKEN = 'bench-client-token';
const AGENT = 'bench@rbm.goog';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '50' },
    conversations: { type: 'string', default: '20' },
    db: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(args.events);
const WARMUP = Number(args.warmup);
const CONVERSATIONS = Number(args.conversations);

interface Delivery {
  key: ConversationKey;
  body: string;
  signature: string;
  /** Dedupe key of an event the conversation lists (typing only flips a flag). */
  listed?: string;
}

/** The i-th delivery: a realistic mix, one event per request as RBM sends them. */
function delivery(i: number, phones: string[]): Delivery {
  const phone = phones[i % phones.length] as string;
  const key = rbmConversationKey(AGENT, phone);
  // Receipts name one of "our" messages; the tracker keeps unmatched ones, which is all this needs.
  const ourMessage = `sb-out-${i % 97}`;
  const kind = i % 10;
  const id = `${kind < 6 ? 'msg' : 'ev'}-${randomUUID()}`;
  const sendTime = new Date().toISOString();
  const data =
    kind < 6
      ? {
          senderPhoneNumber: phone,
          agentId: AGENT,
          messageId: id,
          sendTime,
          text: `Message ${i}: when do you open on Sunday?`,
        }
      : kind < 8
        ? {
            senderPhoneNumber: phone,
            agentId: AGENT,
            eventId: id,
            messageId: ourMessage,
            sendTime,
            eventType: kind === 6 ? 'DELIVERED' : 'READ',
          }
        : { senderPhoneNumber: phone, agentId: AGENT, eventId: id, sendTime, eventType: 'IS_TYPING' };
  const bytes = Buffer.from(JSON.stringify(data));
  const body = JSON.stringify({
    message: { data: bytes.toString('base64'), messageId: `ps-${i}`, publishTime: sendTime },
    subscription: 'projects/bench/subscriptions/rbm',
  });
  return { key, body, signature: computeSignature(TOKEN, bytes), ...(kind < 8 ? { listed: id } : {}) };
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) },
    },
  });
  const binaries = readTemporalBinaries();
  const [temporalPort, apiPort] = [await freePort(), await freePort()];
  const dbFile = args.db ? path.join(projectRoot, '.data', 'bench', `webhook-ack-${process.pid}.sqlite`) : undefined;
  console.log(
    `starting Temporal dev server on 127.0.0.1:${temporalPort}${dbFile ? ` (SQLite ${dbFile})` : ' (in memory)'}`,
  );
  const server = await DevServer.start({ cliPath: binaries.cli, port: temporalPort, ...(dbFile ? { dbFile } : {}) });

  const taskQueue = `bench-${randomUUID()}`;
  // Encrypted payloads, as every deployment runs: the API's client and the worker share one fresh key.
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    RBM_CLIENT_TOKEN: TOKEN,
    PAYLOAD_ENCRYPTION_KEYS: generatePayloadKeyEntry('bench'),
  });
  const client = createLazyClient(config.temporal);
  const conversations = new ConversationsClient({
    client,
    taskQueue,
    timeoutMs: config.temporal.signalTimeoutMs,
    workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
  });
  const deps: WebhookAppDeps = {
    config,
    conversations,
    logger: silentLogger,
    unrecognizedPayloads: new UnrecognizedPayloadStore({
      client,
      taskQueue,
      timeoutMs: config.temporal.signalTimeoutMs,
      retentionMs: config.env.UNRECOGNIZED_PAYLOAD_RETENTION_DAYS * 86_400_000,
    }),
  };
  const app = createApp(deps);
  const http = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: apiPort });

  console.log('starting worker (bundling workflows)');
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const worker = await buildWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities: recordingActivities().activities,
    dataConverter: payloadDataConverter(config.temporal.payloadEncryption),
  });
  const running = worker.run();

  const url = `http://127.0.0.1:${apiPort}/webhooks/rbm`;
  const phones = Array.from({ length: CONVERSATIONS }, (_, i) => `+4477009${String(i).padStart(5, '0')}`);
  const sent = new Map<ConversationKey, string[]>();
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  try {
    console.log(`posting ${WARMUP} warm-up + ${EVENTS} measured deliveries, one at a time`);
    for (let i = 0; i < WARMUP + EVENTS; i++) {
      const d = delivery(i, phones);
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        body: d.body,
        headers: { 'content-type': 'application/json', 'x-goog-signature': d.signature },
      });
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      if (res.status !== 200) failures[res.status] = (failures[res.status] ?? 0) + 1;
      if (i >= WARMUP) latencies.push(ms);
      if (d.listed) sent.set(d.key, [...(sent.get(d.key) ?? []), d.listed]);
    }
    const wallMs = performance.now() - started;

    // Every acknowledged event must be in its conversation: a fast 200 that lost events would be worthless.
    let missing = 0;
    const deadline = Date.now() + 60_000;
    for (const [key, ids] of sent) {
      // The state lists a bounded window of recent events, so check the newest ones.
      const recent = ids.slice(-20);
      missing += await pollUntilOrLast({
        what: `the newest events of ${key} in its state`,
        read: async () => {
          const state = await conversations.getState(key);
          const listed = new Set(state?.events.map((e) => e.dedupeKey));
          return recent.filter((id) => !listed.has(id)).length;
        },
        done: (absent) => absent === 0,
        // One deadline for all conversations.
        timeoutMs: Math.max(0, deadline - Date.now()),
        intervalMs: 100,
      });
    }

    const sorted = [...latencies].sort((a, b) => a - b);
    const result = {
      benchmark: 'webhook-ack',
      at: new Date().toISOString(),
      events: EVENTS,
      warmup: WARMUP,
      conversations: CONVERSATIONS,
      mix: { textMessages: 0.6, delivered: 0.1, read: 0.1, isTyping: 0.2 },
      temporal: { server: binaries.cliVersion, persistence: dbFile ? 'sqlite-wal' : 'memory' },
      host: {
        node: process.versions.node,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: Math.round(totalmem() / 2 ** 30),
      },
      latencyMs: {
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted.at(-1) ?? 0),
        min: round(sorted[0] ?? 0),
        mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
      },
      throughputPerSecond: round((EVENTS + WARMUP) / (wallMs / 1000)),
      non200: failures,
      recentEventsMissingFromConversations: missing,
    };
    console.log(
      `\nwebhook ack latency over ${EVENTS} sequential signed RBM deliveries (${result.temporal.persistence} dev server, worker running):`,
    );
    console.log(
      `  p50 ${result.latencyMs.p50} ms   p90 ${result.latencyMs.p90} ms   p99 ${result.latencyMs.p99} ms   max ${result.latencyMs.max} ms   mean ${result.latencyMs.mean} ms`,
    );
    console.log(
      `  ${result.throughputPerSecond} requests/s sequential; non-200: ${JSON.stringify(failures)}; recent events missing from conversations: ${missing}`,
    );
    const dir = path.join(projectRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `webhook-ack-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`  written to ${path.relative(projectRoot, file)}`);
    if (Object.keys(failures).length > 0 || missing > 0) process.exitCode = 1;
  } finally {
    await new Promise<void>((resolve) => http.close(() => resolve()));
    worker.shutdown();
    await running;
    await workerConnection.close();
    await client.connection.close();
    await server.stop();
    if (dbFile) rmSync(path.dirname(dbFile), { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
