/**
 * The routing state a conversation carries between messages (and across continue-as-new). Plain
 * JSON so the workflow can keep it in its state and hand it to the next run.
 */

/** Where a place confirmation stands for the place routing last proposed. */
export interface PlaceConfirmation {
  placeId: string;
  status: 'pending' | 'confirmed' | 'declined';
}

/** A conversation's routing state: kept by the workflow, updated by each decision's `contextUpdate`. */
export interface RoutingContext {
  /** No earlier inbound message in this conversation. */
  isNew: boolean;
  /** Consecutive messages automation could not answer; reset by an answer or a release. */
  automationFailures: number;
  /** Last known locale (canonical BCP-47); an operator may set it to override derivation. */
  locale?: string;
  /** The user's name from Business Messages' userInfo, when shared. */
  displayName?: string;
  /** A human agent is in the conversation: every message goes to them. Set by the workflow. */
  liveAgent?: { id: string; queue?: string };
  /** Handed to this queue and no agent has joined (yet): messages wait for the human. */
  handoffQueue?: string;
  /** The place the conversation is about (a placeId entry point, or confirmed by the user). */
  confirmedPlaceId?: string;
  /** The last place routing asked the user to confirm, so it asks once per place. */
  placeConfirmation?: PlaceConfirmation;
}

/** Fields a decision changes; apply with {@link applyContextUpdate}. */
export type RoutingContextUpdate = Partial<RoutingContext>;

/** The routing state of a conversation before its first message. */
export function initialRoutingContext(): RoutingContext {
  return { isNew: true, automationFailures: 0 };
}

/** The context after a decision. Fields absent from the update keep their value. */
export function applyContextUpdate(context: RoutingContext, update: RoutingContextUpdate): RoutingContext {
  return { ...context, ...update };
}

/** A human agent joined (operator assignment): messages now go to them. */
export function withLiveAgent(context: RoutingContext, agent: { id: string; queue?: string }): RoutingContext {
  const queue = agent.queue ?? context.handoffQueue;
  return { ...context, liveAgent: queue !== undefined ? { id: agent.id, queue } : { id: agent.id } };
}

/**
 * Back to automation (agent left or operator release): no agent, no queue, and a fresh count of
 * failed attempts so the user is not handed straight back. The confirmed place is kept, so a
 * placeId conversation is not routed to the place queue again by its next message.
 */
export function releaseToAutomation(context: RoutingContext): RoutingContext {
  // Destructuring drops the fields instead of leaving `undefined` values in the state.
  const { liveAgent: _liveAgent, handoffQueue: _handoffQueue, ...rest } = context;
  return { ...rest, automationFailures: 0 };
}
