/**
 * The chaos run's checks (checkChaos, bench/lib/chaos.ts) on hand-made evidence: a clean run
 * passes, and each planted fault — a lost receipt, a message processed twice, a second distinct
 * reply, a second distinct READ receipt, a webhook never accepted — is caught and counted. This is
 * what makes the chaos test able to fail.
 */
import { temporal } from '@temporalio/proto';

import { type ChaosEvidence, checkChaos } from '../../bench/lib/chaos-checks';
import { type BenchConversation, type UserEvent } from '../../bench/lib/traffic';
import { countCalls } from '../../dev/simulator/call-counts';
import { CallLog, type CallRecord } from '../../dev/simulator/calls';
import { type SimMessage } from '../../dev/simulator/phones';
import { type ConversationView } from '../../src/workflows/definitions';

const T = temporal.api.enums.v1.EventType;
const AGENT = 'checks@rbm.goog';
const PHONE = '+16285550001';
const KEY = `rbm:${AGENT}:${PHONE}`;
const conversation: BenchConversation = { index: 0, phone: PHONE, key: KEY };

let nextId = 1;
function call(partial: Partial<CallRecord>): CallRecord {
  return {
    id: nextId++,
    time: new Date().toISOString(),
    direction: 'inbound',
    api: 'rbm',
    method: 'POST',
    path: '/',
    query: {},
    body: undefined,
    status: 200,
    durationMs: 1,
    phone: PHONE,
    conversation: KEY,
    ...partial,
  };
}

function signal(keys: string[]): temporal.api.history.v1.IHistoryEvent[] {
  const payload = { data: Buffer.from(JSON.stringify(keys.map((dedupeKey) => ({ dedupeKey })))) };
  return [
    {
      eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      workflowExecutionSignaledEventAttributes: { signalName: 'inboundEvents', input: { payloads: [payload] } },
    },
    { eventType: T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED },
  ];
}

/** Evidence with the simulator's call records; the checks see their exact counts, as GET /sim/counts serves them. */
type Evidence = Omit<ChaosEvidence, 'simCounts'> & { simCalls: CallRecord[] };

function check(evidence: Evidence) {
  return checkChaos({ ...evidence, simCounts: countCalls(evidence.simCalls) });
}

/** One conversation, one exchange: typing t1, question q1, reply r1 DELIVERED (d1) and READ (e1). */
function cleanEvidence(): Evidence {
  const events: UserEvent[] = [
    {
      conversation,
      kind: 'typing',
      id: 't1',
      data: { senderPhoneNumber: PHONE, eventType: 'IS_TYPING', eventId: 't1' },
    },
    { conversation, kind: 'text', id: 'q1', data: { senderPhoneNumber: PHONE, messageId: 'q1', text: 'hours?' } },
  ];
  const base = { channel: 'rbm' as const, conversationKey: KEY, receivedAt: '2026-01-01T00:00:00Z' };
  const view: ConversationView = {
    key: KEY,
    channel: 'rbm',
    status: 'automation',
    assignment: { kind: 'automation' },
    history: [
      { direction: 'inbound', messageId: 'q1', kind: 'text', summary: 'hours?', at: '2026-01-01T00:00:00Z' },
      { direction: 'outbound', messageId: 'r1', kind: 'text', summary: 'open 9–7', at: '2026-01-01T00:00:01Z' },
    ],
    events: [
      { ...base, dedupeKey: 'q1', type: 'message', messageId: 'q1', content: { kind: 'text', text: 'hours?' } },
      { ...base, dedupeKey: 'd1', type: 'receipt', messageId: 'r1', receipt: 'DELIVERED' },
      { ...base, dedupeKey: 'e1', type: 'receipt', messageId: 'r1', receipt: 'READ' },
    ],
    routingDecisions: [],
    readReceiptsSent: ['q1'],
    unreadByAgent: [],
    userTyping: { isTyping: false, changes: 1 },
    participants: { bot: true, humans: [] },
    generation: 0,
  };
  const message: SimMessage = {
    channel: 'rbm',
    messageId: 'r1',
    agentId: AGENT,
    msisdn: PHONE,
    conversation: KEY,
    status: 'read',
    acceptedAt: '2026-01-01T00:00:01Z',
    request: {},
  };
  return {
    conversations: [conversation],
    events: [events],
    views: new Map([[KEY, view]]),
    histories: new Map([
      [KEY, [...signal(['t1']), ...signal(['q1']), ...signal(['q1']), ...signal(['d1']), ...signal(['e1'])]],
    ]),
    simCalls: [
      call({
        path: `/v1/phones/${PHONE}/agentEvents`,
        query: { eventId: 'read-q1', agentId: AGENT },
        body: { eventType: 'READ', messageId: 'q1' },
      }),
      call({
        path: `/v1/phones/${PHONE}/agentMessages`,
        query: { messageId: 'r1', agentId: AGENT },
        status: 500,
        fault: 'fault-1, status 500, after processing',
      }),
      call({ path: `/v1/phones/${PHONE}/agentMessages`, query: { messageId: 'r1', agentId: AGENT }, duplicate: true }),
      call({
        direction: 'webhook',
        path: '/webhooks/rbm',
        body: { senderPhoneNumber: PHONE, eventType: 'DELIVERED', eventId: 'd1', messageId: 'r1' },
        attempt: 1,
      }),
      call({
        direction: 'webhook',
        path: '/webhooks/rbm',
        body: { senderPhoneNumber: PHONE, eventType: 'READ', eventId: 'e1', messageId: 'r1' },
        status: 503,
        attempt: 1,
      }),
      call({
        direction: 'webhook',
        path: '/webhooks/rbm',
        body: { senderPhoneNumber: PHONE, eventType: 'READ', eventId: 'e1', messageId: 'r1' },
        attempt: 2,
      }),
    ],
    simMessages: [message],
    userCalls: events.map((e) => call({ direction: 'webhook', path: '/webhooks/rbm', body: e.data })),
    redeliveryCalls: [],
    durationMs: 1000,
    kills: [
      { worker: 'worker-1', activitiesInFlight: 1, atQuestionsRead: 0, heldCallCutShort: true },
      { worker: 'worker-2', activitiesInFlight: 1, atQuestionsRead: 1, heldCallCutShort: true },
    ],
    restart: { downMs: 3000, atQuestionsRead: 1 },
    userDuplicates: 1,
    receiptDuplicates: 0,
  };
}

describe('chaos checks', () => {
  test('a clean run: nothing lost, nothing duplicated; retries of one id and redeliveries are counted apart', () => {
    const report = check(cleanEvidence());
    expect(report.violations).toEqual([]);
    expect(report.inbound).toEqual({
      distinctEvents: 4,
      signalsCarryingThem: 5,
      processedOnce: 4,
      notProcessed: 0,
      processedMoreThanOnce: 0,
    });
    expect(report.outbound.agentMessages).toMatchObject({
      calls: 2,
      faulted: 1,
      retriedSameId: 1,
      distinctIds: 1,
      extraDistinct: 0,
      missing: 0,
    });
    expect(report.outbound.readReceipts).toMatchObject({ calls: 1, distinctEventIds: 1, extraDistinct: 0, missing: 0 });
    expect(report.webhooks.non200).toEqual({ '503': 1 });
    expect(report.finalState).toEqual({ conversationsAsExpected: 1, notAsExpected: 0 });
  });

  test('a receipt the workflow never took is a loss', () => {
    const evidence = cleanEvidence();
    const view = evidence.views.get(KEY) as ConversationView;
    (evidence.views as Map<string, ConversationView>).set(KEY, {
      ...view,
      events: view.events.filter((e) => e.dedupeKey !== 'e1'),
    });
    const report = check(evidence);
    expect(report.inbound.notProcessed).toBe(1);
    expect(report.finalState.notAsExpected).toBe(1);
    expect(report.violations.join('\n')).toContain('event e1 not processed');
  });

  test('a question in the conversation history twice is processed twice', () => {
    const evidence = cleanEvidence();
    const view = evidence.views.get(KEY) as ConversationView;
    (evidence.views as Map<string, ConversationView>).set(KEY, {
      ...view,
      history: [view.history[0]!, ...view.history],
    });
    const report = check(evidence);
    expect(report.inbound.processedMoreThanOnce).toBe(1);
    expect(report.violations.join('\n')).toContain('event q1 processed 2 times');
  });

  test('a second distinct agent message for one question is a duplicate, unlike a retried id', () => {
    const evidence = cleanEvidence();
    evidence.simMessages.push({ ...evidence.simMessages[0]!, messageId: 'r2' });
    const report = check(evidence);
    expect(report.outbound.agentMessages.extraDistinct).toBe(1);
    expect(report.violations.join('\n')).toContain('2 distinct agent messages for 1 questions');
  });

  test('a READ receipt sent under a second eventId is a duplicate; one answered with an error before taking effect is not', () => {
    const evidence = cleanEvidence();
    evidence.simCalls.push(
      call({
        path: `/v1/phones/${PHONE}/agentEvents`,
        query: { eventId: 'read-q1-bis', agentId: AGENT },
        status: 503,
        fault: 'fault-2, status 503',
        body: { eventType: 'READ', messageId: 'q1' },
      }),
    );
    expect(check(evidence).outbound.readReceipts.extraDistinct).toBe(0);
    evidence.simCalls.push(
      call({
        path: `/v1/phones/${PHONE}/agentEvents`,
        query: { eventId: 'read-q1-again', agentId: AGENT },
        body: { eventType: 'READ', messageId: 'q1' },
      }),
    );
    const report = check(evidence);
    expect(report.outbound.readReceipts.extraDistinct).toBe(1);
    expect(report.violations.join('\n')).toContain('READ receipts sent under a second distinct eventId');
  });

  test('a webhook answered 500 breaks the contract (200, or 503 while Temporal is unavailable)', () => {
    const evidence = cleanEvidence();
    evidence.userCalls = [{ ...evidence.userCalls[0]!, status: 500 }, ...evidence.userCalls];
    const report = check(evidence);
    expect(report.webhooks.non200).toEqual({ '500': 1, '503': 1 });
    expect(report.violations).toEqual([
      '1 webhook answers with status 500: a signed webhook is answered 200, or 503 while Temporal is unavailable',
    ]);
  });

  test('a webhook never answered 200 is reported, and so is a missing fault', () => {
    const evidence = cleanEvidence();
    evidence.userCalls = [evidence.userCalls[0]!, { ...evidence.userCalls[1]!, status: 503 }];
    evidence.kills = evidence.kills.slice(0, 1);
    const report = check(evidence);
    expect(report.webhooks.undelivered).toBe(1);
    expect(report.violations).toEqual(
      expect.arrayContaining(['webhook for q1 was never accepted', 'the worker was killed 1 times, not 2']),
    );
  });
});

describe('the simulator counts every call by id, past its 10 000-record log', () => {
  test('12 000 READ receipts and 12 000 receipt webhooks: the log keeps the newest 10 000, the counts keep all', () => {
    const log = new CallLog();
    for (let i = 0; i < 12_000; i++) {
      const question = `q${i}`;
      log.add(
        call({
          path: `/v1/phones/${PHONE}/agentEvents`,
          query: { eventId: `read-${question}`, agentId: AGENT },
          body: { eventType: 'READ', messageId: question },
        }),
      );
      log.add(
        call({
          direction: 'webhook',
          path: '/webhooks/rbm',
          body: { senderPhoneNumber: PHONE, eventType: 'READ', eventId: `e${i}`, messageId: `r${i}` },
          attempt: 1,
        }),
      );
    }
    log.add(
      call({
        path: `/v1/phones/${PHONE}/agentEvents`,
        query: { eventId: 'read-q0', agentId: AGENT },
        body: { eventType: 'READ', messageId: 'q0' },
        duplicate: true,
      }),
    );
    expect(log.list()).toHaveLength(10_000);
    const counts = log.counts();
    expect(counts.readReceipts.calls).toBe(12_001);
    expect(counts.readReceipts.duplicate).toBe(1);
    expect(Object.keys(counts.readReceipts.tookEffect)).toHaveLength(12_000);
    expect(counts.readReceipts.tookEffect.q0).toEqual({ 'read-q0': 2 });
    expect(Object.keys(counts.rbmWebhooks.byId)).toHaveLength(12_000);
    expect(counts.rbmWebhooks.statuses).toEqual({ '200': 12_000 });
    log.clear();
    expect(log.counts().readReceipts.calls).toBe(0);
  });
});
