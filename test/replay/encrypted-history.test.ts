/**
 * Histories written through the payload codec replay: a conversation recorded with one key is
 * replayed by a worker that has rotated to a new key and keeps the old one for decryption, and
 * fails (naming the missing key) on a worker that dropped the old key. The recorded history holds
 * neither the message text nor the number in clear. (replay.test.ts replays the committed
 * histories, written before the codec, through the same codec: they pass through.)
 */
import { randomUUID } from 'node:crypto';

import { type History } from '@temporalio/common/lib/proto-utils';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { pollUntil } from '../../dev/poll';
import { type InboundEvent } from '../../src/domain/inbound';
import { payloadDataConverter } from '../../src/temporal/payload-codec';
import { generatePayloadKeyEntry, parsePayloadKeys } from '../../src/temporal/payload-keys';
import { conversationWorkflow } from '../../src/workflows';
import { conversationStateQuery, inboundEventsSignal } from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { createTimeSkippingEnv, installTestRuntime, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';
import { historyToJsonObject } from './history-json';

const NUMBER = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
const KEY = `rbm:agent@rbm.goog:${NUMBER}`;
const TEXT = `what are your opening hours? ref ${randomUUID()}`;
const OLD = generatePayloadKeyEntry('replay-old');
const NEW = generatePayloadKeyEntry('replay-new');
const converter = (...entries: string[]) =>
  payloadDataConverter({ keys: parsePayloadKeys(entries.join(',')), encrypt: true });

function text(messageId: string, body: string): InboundEvent {
  return {
    type: 'message',
    channel: 'rbm',
    conversationKey: KEY,
    dedupeKey: messageId,
    messageId,
    content: { kind: 'text', text: body },
    receivedAt: new Date().toISOString(),
  };
}

/** The history as JSON text, plus every payload's data decoded from base64 (where plaintext would show). */
function readable(history: History): string {
  const json = JSON.stringify(historyToJsonObject(history));
  const decoded: string[] = [];
  JSON.parse(json, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('latin1'));
    return value;
  });
  return `${json}\n${decoded.join('\n')}`;
}

describe('replaying histories written through the payload codec', () => {
  let env: TestWorkflowEnvironment;
  let recorded: History;

  beforeAll(async () => {
    env = await createTimeSkippingEnv({ dataConverter: converter(OLD) });
    const taskQueue = uniqueTaskQueue('encrypted-replay');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: recordingActivities().activities,
      dataConverter: converter(OLD),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart(conversationWorkflow, {
        workflowId: `encrypted-${randomUUID()}`,
        taskQueue,
        args: [{ key: KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } }],
        signal: inboundEventsSignal,
        signalArgs: [[text('m1', TEXT)]],
      });
      await pollUntil({
        what: 'the first answer',
        read: () => handle.query(conversationStateQuery),
        done: (s) => s.history.some((h) => h.direction === 'outbound'),
        timeoutMs: 10_000,
      });
      await handle.signal(inboundEventsSignal, [text('m2', 'thanks')]);
      await pollUntil({
        what: 'the second answer',
        read: () => handle.query(conversationStateQuery),
        done: (s) => s.history.filter((h) => h.direction === 'outbound').length >= 2,
        timeoutMs: 10_000,
      });
      // Past the idle period the run continues as new into a dormant run: its history is complete.
      await env.sleep('2 hours');
      await pollUntil({
        what: 'the run to continue as new into a dormant run',
        read: () => env.client.workflow.getHandle(handle.workflowId).describe(),
        done: (d) => d.runId !== handle.signaledRunId,
        timeoutMs: 10_000,
      });
      recorded = await env.client.workflow.getHandle(handle.workflowId, handle.signaledRunId).fetchHistory();
      await env.client.workflow.getHandle(handle.workflowId).terminate('recorded');
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** Replays the recorded history with `dataConverter` (the failing case logs the worker's activation error). */
  const replayWith = async (dataConverter: ReturnType<typeof converter>) => {
    installTestRuntime();
    return Worker.runReplayHistory(
      { workflowBundle: workflowBundle(), replayName: 'encrypted-replay', dataConverter },
      recorded,
    ).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
  };

  test('the recorded history carries neither the text nor the number in clear, and a control search finds them once decoded', async () => {
    const raw = readable(recorded);
    expect(raw).not.toContain(TEXT);
    expect(raw).not.toContain(NUMBER);
    expect(raw).not.toContain(NUMBER.slice(1));
    const [first] =
      (await converter(OLD).payloadCodecs?.[0]?.decode([
        recorded.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0] ?? {},
      ])) ?? [];
    expect(Buffer.from(first?.data ?? new Uint8Array()).toString('utf8')).toContain(NUMBER);
  });

  test('a worker that rotated to a new key, keeping the old one, replays it without error', async () => {
    expect(await replayWith(converter(NEW, OLD))).toBeUndefined();
  });

  test('a worker that dropped the old key cannot replay it, and says which key it lacks', async () => {
    const error = await replayWith(converter(NEW));
    expect(error).toBeInstanceOf(Error);
    expect(String(error?.message)).toMatch(/replay-old|not configured/);
  });
});
