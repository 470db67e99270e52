/**
 * The events the RBM webhook hands to Temporal for a decoded `message.data`, as the API computes
 * them (src/channels/rbm/inbound.ts): for loops that talk to Temporal directly (the benchmark's
 * raw phases, a rolling upgrade's conversations started with their own settings).
 */
import { openRbmDelivery } from '../../src/channels/rbm/inbound';
import { type InboundEvent } from '../../src/domain/inbound';

/** Parses one RBM payload into its inbound events; throws when the API would not accept it as events. */
export function rbmInboundEvents(
  event: { id: string; data: Record<string, unknown> },
  pubsubPrefix = 'bench',
): InboundEvent[] {
  const bytes = Buffer.from(JSON.stringify(event.data), 'utf8');
  const opened = openRbmDelivery({
    message: { data: bytes.toString('base64'), messageId: `${pubsubPrefix}-${event.id}` },
  });
  if (!opened.ok) throw new Error(`bench payload rejected: ${JSON.stringify(opened.problems)}`);
  const interpretation = opened.payload.interpret(new Date().toISOString());
  if (interpretation.outcome !== 'events') throw new Error(`bench payload not understood: ${interpretation.outcome}`);
  return interpretation.events;
}
