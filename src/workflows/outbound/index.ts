/**
 * Outbound message tracking (issue 6): every message the conversation sends, automation's and
 * operators', lives here from PENDING until DELIVERED / READ or its fallback.
 * This first version only exposes the hooks the conversation workflow calls.
 */
import { type InboundEvent } from '../../domain/inbound';

export type OutboundInboundEvent = Extract<InboundEvent, { type: 'receipt' | 'ttl_expired' }>;

/** State carried across continue-as-new. */
export type OutboundSnapshot = Record<string, never>;

export class OutboundTracker {
  private readonly unmatched: OutboundInboundEvent[] = [];

  constructor(_snapshot?: OutboundSnapshot) {}

  /** Receipts and TTL server events for our outbound messages, already deduped by the conversation. */
  onInboundEvent(event: OutboundInboundEvent): void {
    this.unmatched.push(event);
  }

  /** True while any message still has work in flight that continue-as-new must not cut. */
  get busy(): boolean {
    return false;
  }

  snapshot(): OutboundSnapshot {
    return {};
  }
}

/** Registers the outbound update handlers (send message) on the running workflow. */
export function registerOutboundHandlers(_tracker: OutboundTracker): void {}
