/**
 * Outbound message tracking (issue 6): every message the conversation sends, automation's and
 * operators', lives here from PENDING until DELIVERED / READ or its fallback. See
 * docs/delivery.md for the lifecycle, the branches and the tie-break rule.
 *
 * - types.ts      shapes shared with the API and tests (update input/result, record, snapshot)
 * - record.ts     the per-message record and the pure rules that change it
 * - plan.ts       the pure "what next" decision, re-evaluated after every await
 * - lifecycle.ts  the coroutine per message: activities and durable timers
 * - metrics.ts    receipt metrics in state and through the workflow metric meter
 * - tracker.ts    OutboundTracker: records, idempotency map, receipts routing, snapshot/restore
 * - handlers.ts   the update and query handlers
 */
export { registerOutboundHandlers } from './handlers';
export { OUTBOUND_METRIC_NAMES } from './metrics';
export { nextStep, type Step } from './plan';
export { INVALID_OUTBOUND_MESSAGE, type OutboundInboundEvent, OutboundTracker } from './tracker';
export type {
  OutboundMessagesView,
  OutboundMessageView,
  OutboundMetricsView,
  OutboundRecord,
  OutboundSendInput,
  OutboundSendResult,
  OutboundSnapshot,
  OutboundTrackerOptions,
} from './types';
