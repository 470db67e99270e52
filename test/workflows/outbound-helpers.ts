import { randomUUID } from 'node:crypto';

import { type WorkflowHandle } from '@temporalio/client';

import { pollUntil } from '../../dev/poll';
import { type InboundEvent } from '../../src/domain/inbound';
import { type conversationWorkflow } from '../../src/workflows';
import { outboundMessagesQuery } from '../../src/workflows/definitions';
import { type OutboundMessagesView, type OutboundRecord } from '../../src/workflows/outbound/types';

export const RBM_KEY = 'rbm:agent@rbm.goog:+14155550100';
export const RBM_NUMBER = '+14155550100';
export const BM_KEY = 'bm:conv-outbound-1';

/** A DELIVERED / READ receipt as the webhook normalizes it (dedupeKey unique per event). */
export function receipt(
  key: string,
  messageId: string,
  kind: 'DELIVERED' | 'READ',
): Extract<InboundEvent, { type: 'receipt' }> {
  return {
    type: 'receipt',
    channel: key.startsWith('bm:') ? 'bm' : 'rbm',
    conversationKey: key,
    dedupeKey: `ev-${randomUUID()}`,
    messageId,
    receipt: kind,
    receivedAt: new Date().toISOString(),
  };
}

/** TTL_EXPIRATION_REVOKED (revoked) or TTL_EXPIRATION_REVOKE_FAILED. */
export function ttlExpired(
  key: string,
  messageId: string,
  revoked: boolean,
): Extract<InboundEvent, { type: 'ttl_expired' }> {
  return {
    type: 'ttl_expired',
    channel: 'rbm',
    conversationKey: key,
    dedupeKey: `ev-${randomUUID()}`,
    messageId,
    revoked,
    receivedAt: new Date().toISOString(),
  };
}

/**
 * Polls the outbound query until `predicate` holds (real time, bounded). Used where the worker
 * still has to process a signal, timer or activity the test just caused: the assertion then runs
 * on the state the workflow reached, never on a guess about timing.
 */
export async function eventually(
  handle: WorkflowHandle<typeof conversationWorkflow>,
  predicate: (view: OutboundMessagesView) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<OutboundMessagesView> {
  return pollUntil({
    what,
    read: () => handle.query(outboundMessagesQuery),
    done: predicate,
    timeoutMs,
    describe: (view) =>
      JSON.stringify(
        view.messages.map((m) => ({
          id: m.messageId,
          status: m.status,
          finished: m.finished,
          log: m.log.map((l) => l.event),
        })),
      ),
  });
}

/** The message `messageId` from a view (throws when absent). */
export function messageIn(view: OutboundMessagesView, messageId: string): OutboundRecord {
  const rec = view.messages.find((m) => m.messageId === messageId);
  if (rec === undefined) throw new Error(`message ${messageId} not in view`);
  return rec;
}

/** Waits until the lifecycle of `messageId` has nothing left to do, and returns its record. */
export async function finished(
  handle: WorkflowHandle<typeof conversationWorkflow>,
  messageId: string,
): Promise<OutboundRecord> {
  const view = await eventually(
    handle,
    (v) => v.messages.some((m) => m.messageId === messageId && m.finished),
    `${messageId} to finish`,
  );
  return messageIn(view, messageId);
}
