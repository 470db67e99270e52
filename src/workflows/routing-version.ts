import { ActivityFailure, log, patched } from '@temporalio/workflow';

import { type InboundEvent } from '../domain/inbound';
import { type RoutingConfig } from '../routing';
import { localActivities } from './activity-proxies';
import { COST_PATCHES } from './cost-patches';
import { type ConversationInput } from './definitions';

/**
 * The conversation's routing file. Starts carry its version, not the file (a routing file is
 * kilobytes of JSON, which rode in every signal-with-start and continue-as-new and sat in every
 * cached workflow's input); the worker holds the files and the `routingForVersion` local activity
 * hands the workflow the one of its version, in the run's first task (beside loadPreviousRun, so
 * the task still runs one batch of local activities).
 *
 * Every event carries the version the API delivered it with: when that is newer than the
 * conversation's, the file is fetched again before the next message is routed, so an edited
 * routing file reaches conversations already open. Runs started with the whole file (before
 * versions) keep using it until such an event arrives.
 */
export class ConversationRouting {
  private current: RoutingConfig | undefined;
  private version: string | undefined;
  /** The newest version events were delivered with. */
  private wanted: string | undefined;
  /** Versions already asked for: a worker without the API's file answers with its own, and is not asked again. */
  private readonly asked = new Set<string>();

  constructor(input: Pick<ConversationInput, 'routing' | 'routingVersion'>) {
    this.current = input.routing;
    this.version = input.routing ? undefined : input.routingVersion;
  }

  /** The routing file in force (undefined: none configured, every message goes to humans). */
  get config(): RoutingConfig | undefined {
    return this.current;
  }

  /**
   * Whether the start gave a version to fetch (load). Callers test it first, so runs that carry
   * the file (every history from before versions) take no extra await: their commands keep their order.
   */
  get needsLoad(): boolean {
    return this.current === undefined && this.version !== undefined && !this.asked.has(this.version);
  }

  /** Fetches the start's version. */
  async load(): Promise<void> {
    if (this.version !== undefined) await this.loadVersion(this.version);
  }

  /** Notes the routing version the API delivered these events with. */
  noteEvents(events: readonly InboundEvent[]): void {
    for (const event of events) if (event.routingVersion !== undefined) this.wanted = event.routingVersion;
  }

  /** Whether events brought a version other than the conversation's that was not asked for yet (test it before refresh, as needsLoad). */
  get stale(): boolean {
    return this.wanted !== undefined && this.wanted !== this.version && !this.asked.has(this.wanted);
  }

  /** Before routing: picks up the version events brought. */
  async refresh(): Promise<void> {
    const wanted = this.wanted;
    if (wanted === undefined || !patched(COST_PATCHES.routingVersionRefresh)) return;
    await this.loadVersion(wanted);
  }

  /** What the next run (continue-as-new) starts with: the version when there is one, else the file. */
  carryInput(): Pick<ConversationInput, 'routing' | 'routingVersion'> {
    if (this.version !== undefined) return { routing: undefined, routingVersion: this.version };
    return this.current ? { routing: this.current } : {};
  }

  private async loadVersion(version: string): Promise<void> {
    this.asked.add(version);
    try {
      const found = await localActivities.routingForVersion(version);
      if (!found) return;
      this.current = found.routing;
      this.version = found.version;
      this.asked.add(found.version);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // The rules in force stay (none at a start: messages go to humans); the next new version is tried again.
      log.warn('routing file not loaded', { version, error: err.message });
    }
  }
}
