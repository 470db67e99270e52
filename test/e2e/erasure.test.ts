/**
 * Erasure on request on the dev server: DELETE /v1/conversations/{key} ends the open run and
 * deletes every run of the conversation (an earlier run closed by termination, then the
 * continue-as-new chain of the run a new message reopened), answers 202 once the deletions are
 * accepted, and is idempotent. A run that a racing signal-with-start opens during the erasure is
 * deleted too, and the re-check is what catches it: with a single pass it survives.
 */
import { randomUUID } from 'node:crypto';

import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { pollUntil } from '../../dev/poll';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { type InboundEvent } from '../../src/domain/inbound';
import { silentLogger } from '../../src/logger';
import { payloadDataConverter } from '../../src/temporal/payload-codec';
import { generatePayloadKeyEntry, parsePayloadKeys } from '../../src/temporal/payload-keys';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { eraseWorkflowRuns, ErasureIncompleteError, findRuns } from '../../src/temporal-client/erasure';
import { conversationStateQuery } from '../../src/workflows/definitions';
import { testDataConverter } from '../helpers/data-converter';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { createDevServerEnv, devServerAddress, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

const API_TOKEN = 'erasure-e2e-api-token-0123456789';
const AGENT = 'erasure@rbm.goog';

const phone = () => `+1628${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
const text = (key: string, body: string): InboundEvent => {
  const messageId = `m-${randomUUID()}`;
  return {
    type: 'message',
    channel: 'rbm',
    conversationKey: key,
    dedupeKey: messageId,
    messageId,
    content: { kind: 'text', text: body },
    receivedAt: new Date().toISOString(),
  };
};

describe('erasure: DELETE /v1/conversations/{key}', () => {
  let env: TestWorkflowEnvironment;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('erasure');
  let gateway: ConversationsClient;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    env = await createDevServerEnv({ dataConverter: testDataConverter() });
    client = env.client;
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: recordingActivities().activities,
      dataConverter: testDataConverter(),
    });
    running = worker.run();
    gateway = new ConversationsClient({
      client,
      taskQueue,
      timeoutMs: 10_000,
      workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
      // Continue as new after a few events, so a conversation soon has a chain of runs.
      startInput: { routing: exampleRouting(), settings: { continueAsNewAfterEvents: 12, idleTimeout: '1 day' } },
    });
    app = createApp({
      config: loadConfig({ TEMPORAL_ADDRESS: devServerAddress(), TEMPORAL_TASK_QUEUE: taskQueue, API_TOKEN }),
      conversations: gateway,
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const del = (key: string) =>
    app.request(`/v1/conversations/${encodeURIComponent(key)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
  const runIdsInVisibility = async (workflowId: string) => {
    const ids: string[] = [];
    for await (const e of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) ids.push(e.runId);
    return ids;
  };
  /** True once Temporal has deleted the run (describe of that exact run answers NotFound). */
  const gone = async (workflowId: string, runId: string) =>
    client.workflow
      .getHandle(workflowId, runId)
      .describe()
      .then(
        () => false,
        (err: unknown) => err instanceof WorkflowNotFoundError,
      );
  const allGone = async (workflowId: string, runIds: string[]) =>
    (await Promise.all(runIds.map((r) => gone(workflowId, r)))).every(Boolean);

  test('every run is deleted: an earlier terminated run, a continue-as-new chain and the open one; a second DELETE is no error', async () => {
    const key = `rbm:${AGENT}:${phone()}`;
    const workflowId = gateway.workflowId(key);
    const inbound = async (n: number) =>
      pollUntil({
        what: `${n} inbound messages in the history`,
        read: () => gateway.getState(key).catch(() => undefined),
        done: (s) => (s?.history.filter((h) => h.direction === 'inbound').length ?? 0) >= n,
        timeoutMs: 15_000,
      });
    // A run that ended otherwise; the next message reopens the conversation in a new run…
    await gateway.deliver(key, [text(key, 'hello')]);
    await inbound(1);
    const terminated = (await client.workflow.getHandle(workflowId).describe()).runId;
    await client.workflow.getHandle(workflowId).terminate('closed for the test');
    // …which gets enough messages to continue as new at least once.
    for (let i = 0; i < 6; i++) {
      await gateway.deliver(key, [text(key, `question ${i}: what are your opening hours?`)]);
      await inbound(i + 1);
    }
    const runs = await pollUntil({
      what: 'three runs in visibility',
      read: () => runIdsInVisibility(workflowId),
      done: (ids) => ids.length >= 3,
      timeoutMs: 15_000,
    });
    expect(runs.length).toBeGreaterThanOrEqual(3);
    // The chain is found from the latest run through history alone (what visibility may not show yet).
    const chain = (await findRuns(client, workflowId, { visibility: false })).map((r) => r.runId);
    expect(chain.length).toBeGreaterThanOrEqual(2);
    expect([...chain].sort()).toEqual(runs.filter((r) => r !== terminated).sort());
    const open = (await client.workflow.getHandle(workflowId).describe()).runId;

    const res = await del(key);
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      status: string;
      workflowId: string;
      runIds: string[];
      terminatedRunIds: string[];
    };
    expect(body).toMatchObject({ status: 'deletion_accepted', workflowId });
    expect(body.runIds).toEqual(expect.arrayContaining(runs));
    expect(body.terminatedRunIds).toContain(open);

    // Temporal deletes closed runs with a task of its own: ~30 s on the dev server.
    expect(
      await pollUntil({
        what: 'every run deleted',
        read: () => allGone(workflowId, runs),
        done: Boolean,
        timeoutMs: 90_000,
        intervalMs: 500,
      }),
    ).toBe(true);
    expect(
      await pollUntil({
        what: 'visibility to list no run',
        read: () => runIdsInVisibility(workflowId),
        done: (ids) => ids.length === 0,
        timeoutMs: 30_000,
      }),
    ).toEqual([]);
    expect(
      (
        await app.request(`/v1/conversations/${encodeURIComponent(key)}`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        })
      ).status,
    ).toBe(404);

    const again = await del(key);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ status: 'deletion_accepted', deletedRuns: 0, runIds: [] });
  });

  test('a conversation that never existed: 202, nothing deleted; a malformed key: 400; no token: 401', async () => {
    const res = await del(`rbm:${AGENT}:${phone()}`);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ deletedRuns: 0 });
    expect((await del('not-a-key')).status).toBe(400);
    expect(
      (await app.request(`/v1/conversations/${encodeURIComponent(`rbm:${AGENT}:${phone()}`)}`, { method: 'DELETE' }))
        .status,
    ).toBe(401);
  });

  test('a conversation encrypted with a key this process does not have (a lost key) is still erased', async () => {
    const lost = new Client({
      connection: env.connection,
      namespace: 'default',
      dataConverter: payloadDataConverter({ keys: parsePayloadKeys(generatePayloadKeyEntry('lost')), encrypt: true }),
    });
    const key = `rbm:${AGENT}:${phone()}`;
    const workflowId = gateway.workflowId(key);
    const start = () =>
      lost.workflow.start('conversationWorkflow', {
        workflowId,
        taskQueue: `${taskQueue}-unpolled`,
        args: [{ key }],
        memo: { displayName: 'A. Person' },
      });
    const closed = (await start()).firstExecutionRunId;
    await lost.workflow.getHandle(workflowId).terminate('closed for the test');
    const open = (await start()).firstExecutionRunId;
    // This process cannot decode those memos: the SDK's own describe fails on them.
    await expect(client.workflow.getHandle(workflowId).describe()).rejects.toThrow(/key lost, which is not configured/);

    const res = await del(key);
    expect(res.status).toBe(202);
    expect(((await res.json()) as { runIds: string[] }).runIds).toEqual(expect.arrayContaining([closed, open]));
    const rawGone = () =>
      client.workflowService
        .describeWorkflowExecution({ namespace: 'default', execution: { workflowId, runId: open } })
        .then(
          () => false,
          (err: unknown) => (err as { code?: number }).code === 5,
        );
    expect(
      await pollUntil({
        what: 'the open run with the undecodable memo deleted',
        read: rawGone,
        done: Boolean,
        timeoutMs: 30_000,
      }),
    ).toBe(true);
  });

  test('a run a racing webhook starts during the erasure is found by the next pass and deleted; with one pass it would survive', async () => {
    const race = async (maxPasses: number) => {
      const key = `rbm:${AGENT}:${phone()}`;
      const workflowId = gateway.workflowId(key);
      await gateway.deliver(key, [text(key, 'hello')]);
      await pollUntil({
        what: 'the first message in the history',
        read: () => gateway.getState(key),
        done: (s) => (s?.history.length ?? 0) >= 1,
        timeoutMs: 15_000,
      });
      let racing: string | undefined;
      const outcome = await eraseWorkflowRuns(client, workflowId, {
        maxPasses,
        // The webhook's signal-with-start lands right after the first pass deleted what it found.
        afterPass: async (pass) => {
          if (pass !== 1) return;
          await gateway.deliver(key, [text(key, 'are you there?')]);
          racing = (await client.workflow.getHandle(workflowId).describe()).runId;
        },
      }).catch((err: unknown) => err);
      return { workflowId, racing: racing as string, outcome };
    };

    const caught = await race(5);
    expect(caught.outcome).toMatchObject({ deletedRunIds: expect.arrayContaining([caught.racing]), passes: 3 });
    expect(
      await pollUntil({
        what: 'the racing run deleted',
        read: () => gone(caught.workflowId, caught.racing),
        done: Boolean,
        timeoutMs: 30_000,
      }),
    ).toBe(true);

    const missed = await race(1);
    expect(missed.outcome).toBeInstanceOf(ErasureIncompleteError);
    const survivor = await client.workflow.getHandle(missed.workflowId, missed.racing).describe();
    expect(survivor.status.name).toBe('RUNNING');
    expect(
      (await client.workflow.getHandle(missed.workflowId).query(conversationStateQuery)).history.length,
    ).toBeGreaterThanOrEqual(1);
    // Clean up: a full erasure removes it.
    await eraseWorkflowRuns(client, missed.workflowId);
  });
});
