/**
 * Privacy at rest, end to end, with the real processes (`src/worker.ts`, `src/server.ts`, the
 * simulator as a child, a dev server on a SQLite file: bench/lib/stack.ts):
 *
 * 1. worker and API encrypt with key `old`; a user texts a unique question from a unique number
 *    (through the simulator's signed webhook); a control conversation is signalled by a client
 *    without the codec, as everything was written before the codec existed;
 * 2. worker and API restart with keys `new, old` (rotation: `new` encrypts, `old` only decrypts);
 *    the user texts again; the new worker replays the old-key history to handle it;
 * 3. the raw histories (`temporal workflow show --output json` without a codec) and the SQLite
 *    file hold neither text nor number, while the same search finds the control's text;
 * 4. the codec endpoint decodes both messages with the token (header or path) and refuses
 *    without it; `temporal workflow show --codec-endpoint --codec-auth` shows the plaintext;
 * 5. DELETE /v1/conversations/{key} removes every run.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { Client, WorkflowNotFoundError } from '@temporalio/client';

import {
  type ApiHandle,
  BENCH_AGENT,
  BENCH_API_TOKEN,
  BENCH_CODEC_TOKEN,
  BenchStack,
  type WorkerHandle,
} from '../../bench/lib/stack';
import { readTemporalBinaries } from '../../dev/binaries';
import { pollUntil } from '../../dev/poll';
import { type InboundEvent } from '../../src/domain/inbound';
import { generatePayloadKeyEntry } from '../../src/temporal/payload-keys';
import { conversationWorkflow } from '../../src/workflows';
import { inboundEventsSignal } from '../../src/workflows/definitions';
import { workflowBundle } from '../helpers/temporal';

const run = promisify(execFile);
const unique = () => randomUUID().slice(0, 8);
const phone = () => `+1628${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

const NUMBER = phone();
const KEY = `rbm:${BENCH_AGENT}:${NUMBER}`;
const FIRST = `What are your opening hours? ref ${unique()}`;
const SECOND = `Can I bring my dog, ${unique()}?`;
const CONTROL_NUMBER = phone();
const CONTROL_KEY = `rbm:${BENCH_AGENT}:${CONTROL_NUMBER}`;
const CONTROL_TEXT = `written before the codec ${unique()}`;

type JsonPayload = { metadata?: Record<string, string>; data?: string };
type Entry = { direction: string; summary: string };

/** JSON text plus every base64 `data` field decoded: where a plaintext payload would show. */
function readable(json: string): string {
  const decoded: string[] = [];
  JSON.parse(json, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('latin1'));
    return value;
  });
  return `${json}\n${decoded.join('\n')}`;
}

/** Every payload of the history's inbound signals (signal-with-start's included), as proto JSON. */
function signalPayloads(json: string): JsonPayload[] {
  const history = JSON.parse(json) as {
    events: {
      workflowExecutionSignaledEventAttributes?: { signalName?: string; input?: { payloads?: JsonPayload[] } };
    }[];
  };
  return history.events.flatMap((e) =>
    e.workflowExecutionSignaledEventAttributes?.signalName === inboundEventsSignal.name
      ? (e.workflowExecutionSignaledEventAttributes.input?.payloads ?? [])
      : [],
  );
}

const metadataText = (p: JsonPayload, key: string) => Buffer.from(p.metadata?.[key] ?? '', 'base64').toString('utf8');
const dataText = (p: JsonPayload) => Buffer.from(p.data ?? '', 'base64').toString('utf8');

describe('privacy at rest with the real processes: encrypted histories, codec endpoint, key rotation, erasure', () => {
  let stack: BenchStack;
  let worker: WorkerHandle | undefined;
  let api: ApiHandle | undefined;
  let plainClient: Client;
  const rawRuns = new Map<string, string>();

  const cli = async (args: string[]) =>
    (
      await run(readTemporalBinaries().cli, [...args, '--address', stack.temporal.address], {
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      })
    ).stdout;
  const apiGet = async (p: string) =>
    fetch(`${(api as ApiHandle).url}${p}`, { headers: { authorization: `Bearer ${BENCH_API_TOKEN}` } });
  const transcript = async (key: string): Promise<Entry[]> => {
    const res = await apiGet(`/v1/conversations/${encodeURIComponent(key)}/history`);
    return res.status === 200 ? ((await res.json()) as { entries: Entry[] }).entries : [];
  };
  const has = (entries: Entry[], direction: string, text: string) =>
    entries.some((e) => e.direction === direction && e.summary === text);
  const userTexts = async (msisdn: string, text: string) => {
    const res = await fetch(`${stack.simUrl}/sim/users/rbm/${encodeURIComponent(msisdn)}/text`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, agentId: BENCH_AGENT }),
    });
    expect(((await res.json()) as { webhook: { status: number } }).webhook.status).toBe(200);
  };
  const startProcesses = async (keyFile: string) => {
    const env = { PAYLOAD_ENCRYPTION: 'on', PAYLOAD_ENCRYPTION_KEY_FILE: keyFile };
    [worker, api] = await Promise.all([stack.startWorker(env), stack.startApi('switchboard', env)]);
  };
  const stopProcesses = async () => {
    await Promise.all([worker?.child.stop(), api?.child.stop()]);
  };
  const runIdsOf = async (workflowId: string) => {
    const runs: { runId: string; startTime: number }[] = [];
    for await (const e of plainClient.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
      runs.push({ runId: e.runId, startTime: e.startTime.getTime() });
    // Newest first, whatever order the visibility store answers in.
    return runs.sort((a, b) => b.startTime - a.startTime).map((r) => r.runId);
  };

  beforeAll(async () => {
    stack = await BenchStack.start({
      label: 'privacy',
      persistence: 'sqlite',
      workflowBundlePath: workflowBundle().codePath,
      simulator: { deliverAfterMs: 50, readAfterMs: 50 },
      // Runs continue as new after a few dozen events: the erasure meets a chain.
      temporalArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=30'],
    });
    // Reads what Temporal stores, without any codec.
    plainClient = new Client({ connection: stack.connection, namespace: 'default' });
    const oldKeys = path.join(stack.dir, 'keys-old');
    const rotatedKeys = path.join(stack.dir, 'keys-rotated');
    const oldEntry = generatePayloadKeyEntry('old-2026-01');
    writeFileSync(oldKeys, `${oldEntry}\n`, { mode: 0o600 });
    writeFileSync(rotatedKeys, `${generatePayloadKeyEntry('new-2026-06')}\n${oldEntry}\n`, { mode: 0o600 });

    // 1. Before the rotation.
    await startProcesses(oldKeys);
    const gateway = stack.gateway();
    const controlEvent: InboundEvent = {
      type: 'message',
      channel: 'rbm',
      conversationKey: CONTROL_KEY,
      dedupeKey: 'control-1',
      messageId: 'control-1',
      content: { kind: 'text', text: CONTROL_TEXT },
      receivedAt: new Date().toISOString(),
    };
    await plainClient.workflow.signalWithStart(conversationWorkflow, {
      workflowId: gateway.workflowId(CONTROL_KEY),
      taskQueue: stack.taskQueue,
      args: [gateway.startInput(CONTROL_KEY)],
      signal: inboundEventsSignal,
      signalArgs: [[controlEvent]],
    });
    await userTexts(NUMBER, FIRST);
    await pollUntil({
      what: 'the first message and an answer in the transcript',
      read: () => transcript(KEY),
      done: (t) => has(t, 'inbound', FIRST) && t.some((e) => e.direction === 'outbound'),
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    await pollUntil({
      what: "the control conversation's message in the transcript",
      read: () => transcript(CONTROL_KEY),
      done: (t) => has(t, 'inbound', CONTROL_TEXT),
      timeoutMs: 60_000,
      intervalMs: 250,
    });

    // 2. After the rotation: new processes, `new` encrypts, `old` still decrypts.
    await stopProcesses();
    await startProcesses(rotatedKeys);
    await userTexts(NUMBER, SECOND);
    await pollUntil({
      what: "the second message in the API's history",
      read: async () =>
        (await apiGet(`/v1/conversations/${encodeURIComponent(KEY)}`)).json() as Promise<{ history?: Entry[] }>,
      done: (view) => (view.history ?? []).some((h) => h.summary === SECOND),
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    for (const runId of await runIdsOf(stack.workflowId(KEY)))
      rawRuns.set(runId, await cli(['workflow', 'show', '-w', stack.workflowId(KEY), '-r', runId, '--output', 'json']));
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  test('the API reads both messages (old key and new key) and the pre-codec control conversation', async () => {
    const entries = await transcript(KEY);
    expect(has(entries, 'inbound', FIRST)).toBe(true);
    expect(has(entries, 'inbound', SECOND)).toBe(true);
    expect(has(await transcript(CONTROL_KEY), 'inbound', CONTROL_TEXT)).toBe(true);
  });

  test('raw histories without the codec (temporal workflow show --output json) hold neither the texts nor the number', async () => {
    expect(rawRuns.size).toBeGreaterThanOrEqual(1);
    for (const json of rawRuns.values()) {
      const raw = readable(json);
      for (const secret of [FIRST, SECOND, NUMBER, NUMBER.slice(1)]) expect(raw).not.toContain(secret);
    }
    // The same search finds plaintext where there is some: the control conversation's signal.
    // The oldest run: the signal is there; a later run (continued as new) was started by the worker, with the codec.
    const controlRun = (await runIdsOf(stack.workflowId(CONTROL_KEY))).at(-1) as string;
    const control = readable(
      await cli(['workflow', 'show', '-w', stack.workflowId(CONTROL_KEY), '-r', controlRun, '--output', 'json']),
    );
    expect(control).toContain(CONTROL_TEXT);
    expect(control).toContain(CONTROL_NUMBER);
  });

  test("the dev server's SQLite file holds neither the texts nor the number; the control's text is found there", () => {
    const db = stack.dbFile as string;
    const bytes = [db, `${db}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of [FIRST, SECOND, NUMBER, NUMBER.slice(1)]) expect(bytes).not.toContain(secret);
    expect(bytes).toContain(CONTROL_TEXT);
  });

  test('the codec endpoint decodes both messages with the token, the old-key one included, and refuses without it', async () => {
    const payloads = [...rawRuns.values()].flatMap(signalPayloads);
    const decode = (p: string, headers: Record<string, string>) =>
      fetch(`${(api as ApiHandle).url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
        body: JSON.stringify({ payloads }),
      });

    const refused = await decode('/codec/decode', {});
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain(Buffer.from(FIRST).toString('base64').slice(0, 16));
    expect((await decode('/codec/decode', { authorization: 'Bearer not-the-codec-token' })).status).toBe(401);
    expect((await decode('/codec/decode', { authorization: `Bearer ${BENCH_API_TOKEN}` })).status).toBe(401);

    for (const res of [
      await decode('/codec/decode', { authorization: `Bearer ${BENCH_CODEC_TOKEN}` }),
      await decode(`/codec/${BENCH_CODEC_TOKEN}/decode`, {}),
    ]) {
      expect(res.status).toBe(200);
      const decoded = ((await res.json()) as { payloads: JsonPayload[] }).payloads;
      const first = payloads[decoded.findIndex((p) => dataText(p).includes(FIRST))];
      const second = payloads[decoded.findIndex((p) => dataText(p).includes(SECOND))];
      expect(first && metadataText(first, 'encryption-key-id')).toBe('old-2026-01');
      expect(second && metadataText(second, 'encryption-key-id')).toBe('new-2026-06');
    }
  });

  test('temporal workflow show decodes through the codec endpoint with --codec-auth', async () => {
    const latest = (await plainClient.workflow.getHandle(stack.workflowId(KEY)).describe()).runId;
    const shown = readable(
      await cli([
        'workflow',
        'show',
        '-w',
        stack.workflowId(KEY),
        '-r',
        latest,
        '--output',
        'json',
        '--codec-endpoint',
        `${(api as ApiHandle).url}/codec`,
        '--codec-auth',
        `Bearer ${BENCH_CODEC_TOKEN}`,
      ]),
    );
    expect(shown).toContain(SECOND);
    expect(shown).toContain(NUMBER);
  });

  test('DELETE /v1/conversations/{key} removes every run; the control conversation is untouched', async () => {
    const workflowId = stack.workflowId(KEY);
    // The phone reads every reply first: fewer late receipts race the erasure (see the end).
    const allRead = async () =>
      (
        (await (await fetch(`${stack.simUrl}/sim/messages?phone=${encodeURIComponent(NUMBER)}`)).json()) as {
          messages: { status: string }[];
        }
      ).messages;
    const replies = await pollUntil({
      what: 'every reply read',
      read: allRead,
      done: (m) => m.length > 0 && m.every((x) => x.status === 'read'),
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.map((m) => m.status)).toEqual(replies.map(() => 'read'));
    const runs = await runIdsOf(workflowId);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const res = await fetch(`${(api as ApiHandle).url}/v1/conversations/${encodeURIComponent(KEY)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${BENCH_API_TOKEN}` },
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { runIds: string[] }).runIds).toEqual(expect.arrayContaining(runs));
    const gone = async () =>
      (
        await Promise.all(
          runs.map((r) =>
            plainClient.workflow
              .getHandle(workflowId, r)
              .describe()
              .then(
                () => false,
                (err: unknown) => err instanceof WorkflowNotFoundError,
              ),
          ),
        )
      ).every(Boolean);
    expect(
      await pollUntil({ what: 'every run deleted', read: gone, done: Boolean, timeoutMs: 90_000, intervalMs: 500 }),
    ).toBe(true);
    // A receipt webhook still in flight may start a new run after the erasure's last look (the
    // module header of src/temporal-client/erasure.ts): then it is a new conversation that
    // knows nothing of the erased one.
    const after = await apiGet(`/v1/conversations/${encodeURIComponent(KEY)}`);
    if (after.status !== 404) {
      expect(after.status).toBe(200);
      expect(runs).not.toContain((await plainClient.workflow.getHandle(workflowId).describe()).runId);
      const entries = await transcript(KEY);
      expect(has(entries, 'inbound', FIRST) || has(entries, 'inbound', SECOND)).toBe(false);
    }
    expect((await plainClient.workflow.getHandle(stack.workflowId(CONTROL_KEY)).describe()).status.name).toBe(
      'RUNNING',
    );
  });
});
