import { type Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
} from '@temporalio/workflow';

import { type OutboundContent } from '../domain/outbound';
import { releaseToAutomation, withLiveAgent } from '../routing';
import { describeActivityFailure, recordActivityFailure } from './activity-failures';
import { channelActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';
import { type Assignment, type AssignRequest } from './definitions';
import { HANDOFF_SLA_ESCALATION } from './handoff-patches';

export interface HandoffDeps {
  state: ConversationState;
  sla: Duration;
  /** Sends a workflow-authored message (holding message) through the normal reply path. */
  reply(content: OutboundContent): Promise<unknown>;
  /** The localized holding message for the conversation's locale. */
  holdingMessage(): OutboundContent;
  /**
   * An assignment changes only after its join/leave event was sent (rolled back, i.e. never
   * applied, when it fails), and the search attributes follow at once instead of waiting for the
   * main loop to wake (which left `status` searches wrong). False only while replaying runs that
   * started before that change.
   */
  assignAfterEvent?: boolean;
  /** Called right after the assignment or queue changed (keeps the search attributes current). */
  onAssignmentChanged?: () => void;
  /**
   * Patch IN_FLIGHT_BEFORE_CONTINUE_AS_NEW: an expired SLA's holding message and escalation count
   * as work in flight (`busy`), so continue-as-new waits for them, and the escalation, once
   * started, runs to its end (a human joining meanwhile does not abandon it). False only while
   * replaying runs that started before.
   */
  settled?: boolean;
}

/**
 * Human handoff: notify the agent desk (signed, retried), wait for an agent with an SLA timer that
 * sends one localized holding message (and, from HANDOFF_SLA_ESCALATION on, notifies the desk
 * again), and join / leave / release back to automation.
 */
export class HandoffController {
  private slaScope: CancellationScope | undefined;
  /** An assignment whose event is being sent: the next one waits for it. */
  private assigning = false;
  /** An expired SLA's holding message and desk escalation under way (settled runs). */
  private expiring = 0;

  constructor(private readonly deps: HandoffDeps) {}

  /** Queues the conversation for a human and notifies the desk. Idempotent while a handoff is open. */
  async request(queue: string, reason: string): Promise<void> {
    const { state } = this.deps;
    if (state.handoff || state.assignment.kind === 'human') return;
    const handoffId = state.nextEventId('handoff');
    state.startHandoff({ handoffId, queue, reason, requestedAt: new Date().toISOString(), holdingMessageSent: false });
    state.assign({ kind: 'queue', queue });
    state.routing = { ...state.routing, handoffQueue: queue };
    this.armSla();
    if (this.deps.assignAfterEvent) this.deps.onAssignmentChanged?.();
    // Inline rather than through notifyDesk: runs started before issue 11 replay this await as recorded.
    try {
      await channelActivities.notifyHandoff(this.notice(handoffId, queue, reason));
    } catch (err) {
      this.deskRefused(err, queue);
    }
  }

  /**
   * A dormant conversation that was still queued when it went idle is written to again: the desk
   * hears of it (a new handoff id, reason `reopened`) and the SLA timer runs again.
   */
  async reopen(): Promise<void> {
    const { state } = this.deps;
    const open = state.handoff;
    if (!open || state.assignment.kind !== 'queue') return;
    const handoffId = state.nextEventId('handoff');
    state.startHandoff({
      handoffId,
      queue: open.queue,
      reason: 'reopened',
      requestedAt: new Date().toISOString(),
      holdingMessageSent: false,
    });
    this.armSla();
    await this.notifyDesk(handoffId, open.queue, 'reopened');
  }

  /** What the desk is told of a handoff: who, where, why, and the last ten history lines. */
  private notice(handoffId: string, queue: string, reason: string) {
    const { state } = this.deps;
    return {
      conversationKey: state.key,
      handoffId,
      queue,
      reason,
      locale: state.routing.locale,
      displayName: state.routing.displayName,
      summary: state.history
        .slice(-10)
        .map((h) => `${h.direction === 'inbound' ? 'user' : 'agent'} [${h.kind}] ${h.summary}`),
    };
  }

  private async notifyDesk(handoffId: string, queue: string, reason: string): Promise<void> {
    try {
      await channelActivities.notifyHandoff(this.notice(handoffId, queue, reason));
    } catch (err) {
      this.deskRefused(err, queue);
    }
  }

  /**
   * A desk that refuses for good (or none configured) must not end the conversation: it stays
   * queued, visible to operators through the queue search attribute and the list API.
   */
  private deskRefused(err: unknown, queue: string): void {
    const { state } = this.deps;
    if (!(err instanceof ActivityFailure)) throw err;
    const type = err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
    state.recordDecision('-', 'handoff_notification_failed', new Date().toISOString(), type ?? err.message);
    if (this.deps.assignAfterEvent) recordActivityFailure(state, 'handoff_notification', err);
    else log.warn('agent desk not notified', { queue, type });
  }

  /**
   * True while an expired SLA's holding message and desk escalation are under way, outside any
   * handler: continue-as-new waits for false (the holding message is marked sent when it starts,
   * so a run continued in between would never escalate).
   */
  get busy(): boolean {
    return this.expiring > 0;
  }

  /** After continue-as-new: re-arms the SLA timer of an open handoff with the time it has left. */
  resume(): void {
    if (this.deps.state.handoff && !this.deps.state.handoff.holdingMessageSent) this.armSla();
  }

  /** Operator assignment: a human joins, or the conversation goes back to automation. */
  assign(request: AssignRequest): Promise<Assignment> {
    // Not async itself: a legacy run's update must complete after exactly as many microtasks as before.
    return this.deps.assignAfterEvent ? this.assignOneAtATime(request) : this.assignLegacy(request);
  }

  private async assignOneAtATime(request: AssignRequest): Promise<Assignment> {
    // One assignment at a time: the next one decides on what the previous one committed.
    await condition(() => !this.assigning);
    this.assigning = true;
    try {
      return await this.assignAfterEvent(request);
    } finally {
      this.assigning = false;
    }
  }

  /**
   * The join / leave event first; the state changes only once it was sent. When it fails for good
   * the assignment stays as it was, the failure is recorded and the update fails with
   * AssignmentNotDelivered so the operator knows.
   */
  private async assignAfterEvent(request: AssignRequest): Promise<Assignment> {
    const { state } = this.deps;
    const current = state.assignment;
    if (request.to === 'human' && current.kind === 'human' && current.agentId === request.agentId) return current;
    if (request.to === 'automation' && current.kind === 'automation') return current;
    const event =
      request.to === 'human'
        ? { event: 'joined' as const, representative: { type: 'HUMAN' as const, displayName: request.displayName } }
        : current.kind === 'human'
          ? { event: 'left' as const, representative: { type: 'HUMAN' as const, displayName: current.displayName } }
          : undefined;
    if (event) {
      try {
        await channelActivities.sendRepresentativeEvent({
          conversationKey: state.key,
          eventId: state.nextEventId(event.event),
          ...event,
        });
      } catch (err) {
        recordActivityFailure(state, 'representative_event', err);
        throw ApplicationFailure.nonRetryable(
          `the ${event.event} event was not delivered, the assignment is unchanged: ${describeActivityFailure(err)}`,
          'AssignmentNotDelivered',
        );
      }
    }
    const queue = current.kind === 'queue' ? current.queue : current.kind === 'human' ? current.queue : undefined;
    if (request.to === 'human') {
      state.assign({ kind: 'human', agentId: request.agentId, displayName: request.displayName, queue });
      state.routing = withLiveAgent(state.routing, { id: request.agentId, queue });
    } else {
      state.assign({ kind: 'automation' });
      state.routing = releaseToAutomation(state.routing);
    }
    state.endHandoff();
    this.cancelSla();
    this.deps.onAssignmentChanged?.();
    return state.assignment;
  }

  /**
   * Runs started before the assignment waited for its event: state first, then the event, so a
   * failed event left the assignment changed (kept for their replay).
   */
  private async assignLegacy(request: AssignRequest): Promise<Assignment> {
    const { state } = this.deps;
    const current = state.assignment;
    if (request.to === 'human') {
      if (current.kind === 'human' && current.agentId === request.agentId) return current;
      const queue = current.kind === 'queue' ? current.queue : current.kind === 'human' ? current.queue : undefined;
      state.assign({ kind: 'human', agentId: request.agentId, displayName: request.displayName, queue });
      state.routing = withLiveAgent(state.routing, { id: request.agentId, queue });
      state.endHandoff();
      this.cancelSla();
      await channelActivities.sendRepresentativeEvent({
        conversationKey: state.key,
        eventId: state.nextEventId('joined'),
        event: 'joined',
        representative: { type: 'HUMAN', displayName: request.displayName },
      });
    } else {
      if (current.kind === 'automation') return current;
      state.assign({ kind: 'automation' });
      state.routing = releaseToAutomation(state.routing);
      state.endHandoff();
      this.cancelSla();
      if (current.kind === 'human') {
        await channelActivities.sendRepresentativeEvent({
          conversationKey: state.key,
          eventId: state.nextEventId('left'),
          event: 'left',
          representative: { type: 'HUMAN', displayName: current.displayName },
        });
      }
    }
    return state.assignment;
  }

  private armSla(): void {
    const handoff = this.deps.state.handoff;
    if (!handoff) return;
    this.cancelSla();
    const scope = new CancellationScope();
    this.slaScope = scope;
    const elapsed = Date.now() - Date.parse(handoff.requestedAt);
    const remaining = Math.max(0, msToNumber(this.deps.sla) - elapsed);
    void scope
      .run(async () => {
        const joined = await condition(() => this.deps.state.assignment.kind !== 'queue', remaining);
        const open = this.deps.state.handoff;
        if (joined || !open || open.handoffId !== handoff.handoffId || open.holdingMessageSent) return;
        open.holdingMessageSent = true;
        if (this.deps.settled) this.expiring++;
        try {
          await this.deps.reply(this.deps.holdingMessage());
          if (patched(HANDOFF_SLA_ESCALATION) && this.deps.state.assignment.kind === 'queue') {
            this.deps.state.recordDecision('-', 'handoff_sla_expired', new Date().toISOString(), open.queue);
            const handoffId = this.deps.state.nextEventId('handoff-escalation');
            if (this.deps.settled)
              await CancellationScope.nonCancellable(() => this.notifyDesk(handoffId, open.queue, 'sla_expired'));
            else await this.notifyDesk(handoffId, open.queue, 'sla_expired');
          }
        } finally {
          if (this.deps.settled) this.expiring--;
        }
      })
      .catch((err: unknown) => {
        if (!isCancellation(err)) throw err;
      });
  }

  private cancelSla(): void {
    this.slaScope?.cancel();
    this.slaScope = undefined;
  }
}
