import { type SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { type ConversationState } from './conversation-state';
import { searchAttributes } from './definitions';

/** Last-inbound time is kept to the hour in visibility: one upsert per message would double the events per message. */
const LAST_INBOUND_GRANULARITY_MS = 3_600_000;

/**
 * Keeps the Temporal UI's search attributes (channel, status, locale, place, queue, last inbound)
 * current, upserting only what changed since every upsert is a history event.
 */
export class SearchAttributeSync {
  private readonly last = new Map<string, string>();
  memoSet = false;

  constructor(private readonly state: ConversationState) {}

  sync(): void {
    const s = this.state;
    const assignment = s.assignment;
    const queue = assignment.kind === 'queue' ? assignment.queue : assignment.kind === 'human' ? assignment.queue : undefined;
    const lastInbound = s.lastInboundAt ? Math.floor(Date.parse(s.lastInboundAt) / LAST_INBOUND_GRANULARITY_MS) * LAST_INBOUND_GRANULARITY_MS : undefined;
    const wanted: [string, SearchAttributeUpdatePair | undefined][] = [
      ['channel', { key: searchAttributes.channel, value: s.channel }],
      ['status', { key: searchAttributes.status, value: s.status() }],
      ['locale', s.routing.locale ? { key: searchAttributes.locale, value: s.routing.locale } : undefined],
      ['place', (s.routing.confirmedPlaceId ?? s.lastContext?.placeId) ? { key: searchAttributes.place, value: (s.routing.confirmedPlaceId ?? s.lastContext?.placeId) as string } : undefined],
      ['queue', queue ? { key: searchAttributes.queue, value: queue } : undefined],
      ['lastInboundAt', lastInbound !== undefined ? { key: searchAttributes.lastInboundAt, value: new Date(lastInbound) } : undefined],
    ];
    const changed: SearchAttributeUpdatePair[] = [];
    for (const [name, pair] of wanted) {
      if (!pair) continue;
      const fingerprint = pair.value instanceof Date ? pair.value.toISOString() : String(pair.value);
      if (this.last.get(name) === fingerprint) continue;
      this.last.set(name, fingerprint);
      changed.push(pair);
    }
    if (changed.length > 0) upsertSearchAttributes(changed);
  }
}
