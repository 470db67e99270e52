/**
 * Waiting until workflows have processed what was sent to them: each conversation's state is read
 * with the conversation-state query until a predicate holds for it, with a deadline. Only the
 * conversations not yet done are queried again, a few at a time, so the polling itself stays a
 * small load on the worker.
 */
import { type Client } from '@temporalio/client';

import { conversationStateQuery, type ConversationView } from '../../src/workflows/definitions';
import { pollUntilOrLast } from './poll';

/** One conversation to wait for. */
export interface DrainItem {
  workflowId: string;
  done(view: ConversationView): boolean;
  /**
   * Optional cheap precondition (e.g. the simulator saw the last receipt accepted): until it
   * holds the conversation is not queried, so polling does not load the worker it measures.
   */
  ready?(): boolean;
}

/** What a drain saw: when it ended, what never finished, the last state of each conversation. */
export interface DrainResult {
  /** performance.now() when the last conversation was seen done (undefined if some never were). */
  lastDonePerf: number | undefined;
  /** Workflow IDs still not done at the deadline. */
  pending: string[];
  /** Rounds of queries it took (the drain time's resolution is one round). */
  rounds: number;
  /** The last state read of each conversation. */
  views: Map<string, ConversationView>;
}

/** Polls until every item is done or `timeoutMs` passes; `beforeRound` refreshes what `ready()` reads. */
export async function drain(
  client: Client,
  items: readonly DrainItem[],
  timeoutMs: number,
  concurrency = 4,
  beforeRound?: () => Promise<unknown>,
): Promise<DrainResult> {
  let pending = [...items];
  const views = new Map<string, ConversationView>();
  let lastDonePerf: number | undefined;
  let rounds = 0;
  /** Queries the conversations still pending (those whose `ready` holds) once; returns how many remain. */
  const round = async (): Promise<number> => {
    rounds++;
    if (beforeRound) await beforeRound();
    const still: DrainItem[] = pending.filter((item) => item.ready && !item.ready());
    const due = pending.filter((item) => !item.ready || item.ready());
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const item = due[next++] as DrainItem;
        let view: ConversationView | undefined;
        try {
          view = await client.workflow.getHandle(item.workflowId).query(conversationStateQuery);
        } catch {
          // Not started yet, or the server is restarting: try again next round.
        }
        if (view) views.set(item.workflowId, view);
        if (view && item.done(view)) lastDonePerf = performance.now();
        else still.push(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    pending = still;
    return pending.length;
  };
  // Not drained in time is no error: the result lists what is still pending.
  if (pending.length > 0)
    await pollUntilOrLast({
      what: `${pending.length} conversations drained`,
      read: round,
      done: (left) => left === 0,
      timeoutMs,
      intervalMs: 200,
    });
  return {
    lastDonePerf: pending.length === 0 ? lastDonePerf : undefined,
    pending: pending.map((p) => p.workflowId),
    rounds,
    views,
  };
}

/**
 * Done for the benchmark's exchange: every question answered by automation (an outbound entry per
 * question), each question marked READ once, the typing seen, and DELIVERED and READ received for
 * every reply.
 */
export function exchangeDone(questionIds: readonly string[]): (view: ConversationView) => boolean {
  return (view) => {
    if (!questionIds.every((id) => view.readReceiptsSent.includes(id))) return false;
    const replies = view.history.filter((h) => h.direction === 'outbound').map((h) => h.messageId);
    if (replies.length < questionIds.length) return false;
    if (view.userTyping.changes < 1) return false;
    const receipts = new Set(
      view.events
        .filter((e) => e.type === 'receipt')
        .map((e) => (e.type === 'receipt' ? `${e.messageId}:${e.receipt}` : '')),
    );
    return replies.every((id) => receipts.has(`${id}:DELIVERED`) && receipts.has(`${id}:READ`));
  };
}
