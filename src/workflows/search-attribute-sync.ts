import { type SearchAttributeUpdatePair, type TypedSearchAttributes } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';

import { type ConversationState } from './conversation-state';
import { lastInboundHour, searchAttributes } from './definitions';

/**
 * Keeps the Temporal UI's search attributes (channel, status, locale, place, queue, last inbound)
 * current, upserting only what changed since every upsert is a history event.
 */
export class SearchAttributeSync {
  private readonly last = new Map<string, string>();
  memoSet = false;

  /**
   * `initial`: the attributes the run already has (given with its start, or carried over by
   * continue-as-new); only values that differ from them are upserted. Without it (histories from
   * before the start carried them) every attribute is upserted once.
   */
  constructor(
    private readonly state: ConversationState,
    initial?: TypedSearchAttributes,
  ) {
    if (!initial) return;
    for (const [name, key] of Object.entries(searchAttributes)) {
      const value = initial.get(key);
      if (value !== undefined) this.last.set(name, fingerprint(value));
    }
  }

  sync(): void {
    const s = this.state;
    const assignment = s.assignment;
    const queue =
      assignment.kind === 'queue' ? assignment.queue : assignment.kind === 'human' ? assignment.queue : undefined;
    const lastInbound = s.lastInboundAt ? lastInboundHour(s.lastInboundAt) : undefined;
    const wanted: [string, SearchAttributeUpdatePair | undefined][] = [
      ['channel', { key: searchAttributes.channel, value: s.channel }],
      ['status', { key: searchAttributes.status, value: s.status() }],
      ['locale', s.routing.locale ? { key: searchAttributes.locale, value: s.routing.locale } : undefined],
      [
        'place',
        (s.routing.confirmedPlaceId ?? s.lastContext?.placeId)
          ? { key: searchAttributes.place, value: (s.routing.confirmedPlaceId ?? s.lastContext?.placeId) as string }
          : undefined,
      ],
      ['queue', queue ? { key: searchAttributes.queue, value: queue } : undefined],
      [
        'lastInboundAt',
        lastInbound !== undefined ? { key: searchAttributes.lastInboundAt, value: lastInbound } : undefined,
      ],
    ];
    const changed: SearchAttributeUpdatePair[] = [];
    for (const [name, pair] of wanted) {
      if (!pair) continue;
      const print = fingerprint(pair.value);
      if (this.last.get(name) === print) continue;
      this.last.set(name, print);
      changed.push(pair);
    }
    if (changed.length > 0) upsertSearchAttributes(changed);
  }
}

function fingerprint(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}
