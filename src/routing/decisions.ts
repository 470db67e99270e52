/**
 * The shapes of routing decisions: what the workflow switches on. Types only.
 */
import { type InboundEvent } from '../domain/inbound';
import { type OutboundContent } from '../domain/outbound';
import { type RoutingContext, type RoutingContextUpdate } from './context';

/** A user message, the only inbound event routing decides on. */
export type InboundMessageEvent = Extract<InboundEvent, { type: 'message' }>;

/** One user message and the conversation's routing state before it. */
export interface RouteInput {
  event: InboundMessageEvent;
  /** The conversation's routing state before this message. */
  context: RoutingContext;
  /** Business Messages: compare the device's language with resolvedLocale's (default true; see resolveLocaleDetailed). */
  compareDeviceLanguage?: boolean;
}

/** Why a conversation goes to a human queue. */
export type HandoffReason =
  /** Automation failed `maxFailedAttempts` times in a row. */
  | 'automation_failed'
  /** Automation has no templates in the user's language. */
  | 'locale_unsupported'
  /** A known question whose FAQ entry has no answer in the user's language. */
  | 'no_answer_in_locale'
  /** The conversation is about a place (placeId, or a place the user confirmed). */
  | 'place'
  /** The user is asking about another place than the one proposed. */
  | 'place_declined'
  /** An image or a file: automation cannot use it. */
  | 'attachment'
  /** A shared location with no known place nearby. */
  | 'location'
  /** The user asked for a person (chip, FAQ entry marked handoff, or live-agent request). */
  | 'user_request';

interface DecisionBase {
  /** The user's locale (canonical BCP-47), also stored in `contextUpdate.locale`. */
  locale: string;
  /** Apply to the conversation's RoutingContext (applyContextUpdate) whatever the action. */
  contextUpdate: RoutingContextUpdate;
}

/** Automation answers (FAQ entry, or sign-in result). `intent` is the FAQ id, or `auth:success` / `auth:failure`. */
export interface AutomationReplyDecision extends DecisionBase {
  action: 'automation_reply';
  intent: string;
  reply: OutboundContent;
}

/** Automation could not answer and has tries left: ask again. `attempt` counts failures so far (1-based). */
export interface RetryPromptDecision extends DecisionBase {
  action: 'retry_prompt';
  reply: OutboundContent;
  attempt: number;
}

/** Ask the user to confirm the place (chips with postback `place:<id>` / `place:none`) before routing. */
export interface ConfirmPlaceDecision extends DecisionBase {
  action: 'confirm_place';
  placeId: string;
  reply: OutboundContent;
}

/** Hand the conversation to a human queue; send `reply` (the acknowledgement) and notify the desk. */
export interface HandoffDecision extends DecisionBase {
  action: 'handoff';
  queue: string;
  reason: HandoffReason;
  reply: OutboundContent;
  /** The place the queue was chosen for, when there is one. */
  placeId?: string;
  /** The recognized FAQ entry, when a question was understood but not answerable. */
  intent?: string;
}

/** A human agent is in the conversation: the message is theirs; nothing automatic is sent. */
export interface LiveAgentDecision extends DecisionBase {
  action: 'live_agent';
  agentId: string;
  queue?: string;
}

/** Already handed to a queue and no agent has joined: the message waits for the human; nothing is sent. */
export interface QueuedDecision extends DecisionBase {
  action: 'queued';
  queue: string;
}

/** The user tapped "try again" after a failed sign-in: send the authentication request again. */
export interface AuthRetryDecision extends DecisionBase {
  action: 'auth_retry';
}

/** Nothing to send: Business Messages' Dialogflow already answered (`autoResponded`). */
export interface NoReplyDecision extends DecisionBase {
  action: 'no_reply';
  reason: 'dialogflow_auto_responded';
}

/** What to do with a user message; switch on `action`. Every variant carries `locale` and `contextUpdate`. */
export type RouteDecision =
  | AutomationReplyDecision
  | RetryPromptDecision
  | ConfirmPlaceDecision
  | HandoffDecision
  | LiveAgentDecision
  | QueuedDecision
  | AuthRetryDecision
  | NoReplyDecision;

/** The decision kinds, e.g. for metrics and search attributes. */
export type RouteAction = RouteDecision['action'];
