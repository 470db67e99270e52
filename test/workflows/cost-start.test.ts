/**
 * What a conversation starts with since issue 14: the routing file's version instead of the file
 * (the worker holds the files, and a new version reaches a running conversation through the
 * events the API stamps with it), and its first search attributes given with the start instead of
 * upserted in its first task. Through the API's own gateway (ConversationsClient.deliver) on the
 * time-skipping server, with the real RoutingStore.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';
import { pollUntil } from '../../dev/poll';
import { type RoutingSource } from '../../src/activities';
import { loadRoutingConfig, routingVersionOf } from '../../src/routing/load';
import { RoutingStore } from '../../src/temporal/routing-store';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { conversationStateQuery, searchAttributes } from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { timeSkippingServer } from '../helpers/time-skipping';
import { RBM_KEY, userMessage } from './conversation-fixtures';

const EXAMPLE = readFileSync(path.join(projectRoot, 'config', 'routing.example.yaml'), 'utf8');
const EDITED = EXAMPLE.replace("We're open Monday to Saturday, 9am to 7pm.", "We're open every day, 8am to 10pm.");

interface HistoryEvent {
  eventId?: unknown;
  eventType?: unknown;
  markerRecordedEventAttributes?: { markerName?: string | null; workflowTaskCompletedEventId?: unknown } | null;
  upsertWorkflowSearchAttributesEventAttributes?: {
    searchAttributes?: { indexedFields?: Record<string, unknown> | null } | null;
  } | null;
  workflowExecutionStartedEventAttributes?: {
    input?: { payloads?: { data?: Uint8Array | null }[] | null } | null;
  } | null;
}

describe('conversation start: routing version, initial search attributes', () => {
  let dir: string;
  const server = timeSkippingServer('file');
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'sb-routing-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `body` with a worker on `store`; `gatewayFor(version)` is the API's gateway on a routing file of that version. */
  async function withWorker(
    store: RoutingSource,
    body: (
      gatewayFor: (routingVersion: string | undefined) => ConversationsClient,
      rec: ReturnType<typeof recordingActivities>,
    ) => Promise<void>,
  ) {
    const secret = `s-${randomUUID()}`;
    const rec = recordingActivities({ routing: store });
    const { worker, taskQueue } = await server.worker({ taskQueuePrefix: 'cost', activities: rec.activities });
    const gatewayFor = (routingVersion: string | undefined) =>
      new ConversationsClient({
        client: server.env.client,
        taskQueue,
        timeoutMs: 10_000,
        workflowIds: { revealPhoneNumbers: false, secret },
        startInput: { settings: { idleTimeout: '1 day' }, ...(routingVersion ? { routingVersion } : {}) },
      });
    await worker.runUntil(async () => {
      try {
        await body(gatewayFor, rec);
      } finally {
        await server.env.client.workflow
          .getHandle(gatewayFor(undefined).workflowId(RBM_KEY))
          .terminate('test finished')
          .catch(() => undefined);
      }
    });
  }

  /** Automation's replies, without the greeting that opens the first one. */
  const replies = (rec: ReturnType<typeof recordingActivities>) =>
    rec.callsTo('sendMessage').map((c) => (c as { content: { text: string } }).content.text.split('\n').at(-1));
  /** Waits until `n` replies were sent: the history records a reply before its send activity has run. */
  const answered = async (gateway: ConversationsClient, rec: ReturnType<typeof recordingActivities>, n: number) => {
    await pollUntil({
      what: `${n} sends, each in the history`,
      read: async () => ({ state: await gateway.getState(RBM_KEY), sent: rec.callsTo('sendMessage').length }),
      done: (s) => s.sent >= n && (s.state?.history.filter((h) => h.direction === 'outbound').length ?? 0) >= n,
      timeoutMs: 10_000,
      describe: (s) => `${s.sent} sends; history ${JSON.stringify(s.state?.history.map((h) => [h.direction, h.kind]))}`,
    });
  };

  function exampleStore(): { file: string; store: RoutingStore } {
    const file = path.join(dir, 'routing.yaml');
    writeFileSync(file, EXAMPLE);
    return { file, store: new RoutingStore(file, loadRoutingConfig(file)) };
  }

  async function historyOf(gateway: ConversationsClient): Promise<HistoryEvent[]> {
    const history = await server.env.client.workflow.getHandle(gateway.workflowId(RBM_KEY)).fetchHistory();
    return (history.events ?? []) as HistoryEvent[];
  }

  test('a start carries the version, not the file; the worker hands the file over in the same task as the previous run', async () => {
    const { store } = exampleStore();
    await withWorker(store, async (gatewayFor, rec) => {
      const gateway = gatewayFor(store.currentVersion);
      await gateway.deliver(RBM_KEY, [userMessage(RBM_KEY, 'what are your opening hours?')]);
      await answered(gateway, rec, 1);
      expect(replies(rec)).toEqual(["We're open Monday to Saturday, 9am to 7pm."]);
      const events = await historyOf(gateway);
      const input = Buffer.from(
        events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data ?? new Uint8Array(),
      ).toString('utf8');
      expect(JSON.parse(input)).toEqual({
        key: RBM_KEY,
        settings: { idleTimeout: '1 day' },
        routingVersion: store.currentVersion,
      });
      // routingForVersion only: a new run no longer looks up a previous run (issue 11 #3); one workflow task.
      const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
      expect(markers).toHaveLength(1);
      expect(
        new Set(markers.map((m) => String(m.markerRecordedEventAttributes?.workflowTaskCompletedEventId))).size,
      ).toBe(1);
    });
  });

  test('an edited routing file reaches a running conversation: the next event carries the new version', async () => {
    const { file, store } = exampleStore();
    await withWorker(store, async (gatewayFor, rec) => {
      const gateway = gatewayFor(store.currentVersion);
      await gateway.deliver(RBM_KEY, [userMessage(RBM_KEY, 'what are your opening hours?')]);
      await answered(gateway, rec, 1);
      // The operator edits the file; the API, restarted on it, delivers with the new version; the worker re-reads the file on the miss.
      writeFileSync(file, EDITED);
      utimesSync(file, new Date(), new Date(Date.now() + 5_000));
      const editedVersion = routingVersionOf(loadRoutingConfig(file));
      await gatewayFor(editedVersion).deliver(RBM_KEY, [userMessage(RBM_KEY, 'are you open on sunday?')]);
      await answered(gateway, rec, 2);
      expect(replies(rec)).toEqual([
        "We're open Monday to Saturday, 9am to 7pm.",
        "We're open every day, 8am to 10pm.",
      ]);
      expect(store.currentVersion).toBe(editedVersion);
    });
  });

  test('a version the worker does not hold gets its newest file, asked for once', async () => {
    const { store } = exampleStore();
    const asked: string[] = [];
    const counting: RoutingSource = { forVersion: (version) => (asked.push(version), store.forVersion(version)) };
    await withWorker(counting, async (gatewayFor, rec) => {
      const gateway = gatewayFor('not-on-this-worker');
      await gateway.deliver(RBM_KEY, [userMessage(RBM_KEY, 'what are your opening hours?')]);
      await answered(gateway, rec, 1);
      await gateway.deliver(RBM_KEY, [userMessage(RBM_KEY, 'when are you open on saturday?')]);
      await answered(gateway, rec, 2);
      expect(replies(rec)).toEqual([
        "We're open Monday to Saturday, 9am to 7pm.",
        "We're open Monday to Saturday, 9am to 7pm.",
      ]);
      expect(asked).toEqual(['not-on-this-worker']);
    });
  });

  test('channel, status and the hour of the first event come with the start: the first task upserts none of them', async () => {
    const { store } = exampleStore();
    await withWorker(store, async (gatewayFor, rec) => {
      const gateway = gatewayFor(store.currentVersion);
      await gateway.deliver(RBM_KEY, [userMessage(RBM_KEY, 'what are your opening hours?')]);
      await answered(gateway, rec, 1);
      const handle = server.env.client.workflow.getHandle(gateway.workflowId(RBM_KEY));
      // The locale is upserted once the answer went out.
      const described = await pollUntil({
        what: 'the locale search attribute',
        read: () => handle.describe(),
        done: (d) => d.typedSearchAttributes.get(searchAttributes.locale) !== undefined,
        timeoutMs: 10_000,
      });
      expect(described.typedSearchAttributes.get(searchAttributes.channel)).toBe('rbm');
      expect(described.typedSearchAttributes.get(searchAttributes.status)).toBe('automation');
      const upserted = (await historyOf(gateway)).flatMap((e) =>
        Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
      );
      expect(described.typedSearchAttributes.get(searchAttributes.lastInboundAt)).toBeInstanceOf(Date);
      expect(upserted).not.toContain(searchAttributes.channel.name);
      expect(upserted).not.toContain(searchAttributes.status.name);
      expect(upserted).not.toContain(searchAttributes.lastInboundAt.name);
      // What the workflow learns itself still goes in: the locale, once routing decided it (beside
      // the TemporalChangeVersion upsert that each patched() id of a new run costs).
      expect(upserted.filter((name) => name !== 'TemporalChangeVersion')).toEqual([searchAttributes.locale.name]);
      expect((await handle.query(conversationStateQuery)).locale).toBe('en');
    });
  });
});
