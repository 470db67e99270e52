/**
 * Where a user's message goes: the routing-by-context rules of Google's Business Messages
 * receive-messages guide (a new conversation or an FAQ to automation, automation's failure to a
 * human, an unlike locale to an agent who speaks it, a placeId to someone who knows the place) as
 * one pure, ordered set of rules. Pure and deterministic: the workflow calls it on replay too.
 */
import { parseConversationKey } from '../domain/conversation-key';
import { type SenderCountry } from '../domain/inbound';
import { type OutboundContent } from '../domain/outbound';
import { type RoutingContext, type RoutingContextUpdate } from './context';
import {
  type AutomationReplyDecision,
  type ConfirmPlaceDecision,
  type HandoffDecision,
  type HandoffReason,
  type InboundMessageEvent,
  type RouteDecision,
  type RouteInput,
} from './decisions';
import { faqByPostback, matchFaq } from './faq';
import { automationLocale, canonicalizeLocale, resolveLocaleDetailed } from './locale';
import { parseReservedPostback } from './postbacks';
import { nearestPlace, selectQueue } from './queues';
import { attachmentReply, authReply, confirmPlaceReply, faqReply, retryReply } from './replies';
import { handoffAcknowledgement, type Recipient } from './templates';
import { type FaqEntry, type RoutingConfig } from './types';

/** What every rule needs, computed once per message. */
interface Situation {
  config: RoutingConfig;
  event: InboundMessageEvent;
  context: RoutingContext;
  recipient: Recipient;
  /** Fields every decision writes back: locale, name, and that the conversation is no longer new. */
  base: RoutingContextUpdate;
}

function rbmParty(event: InboundMessageEvent): { msisdn?: string; agentId?: string; senderCountry?: SenderCountry } {
  if (event.channel !== 'rbm') return {};
  try {
    const parsed = parseConversationKey(event.conversationKey);
    return parsed.channel === 'rbm'
      ? {
          msisdn: parsed.msisdn,
          agentId: parsed.agentId,
          ...(event.senderCountry ? { senderCountry: event.senderCountry } : {}),
        }
      : {};
  } catch {
    return {};
  }
}

/**
 * The message's locale: what Business Messages says with this message wins (it reflects the
 * device now); then the conversation's stored locale (it may be an operator's override); then what
 * the RBM number's country gives; then the agent's default.
 */
function situationOf(input: RouteInput, config: RoutingConfig): Situation {
  const { event, context } = input;
  const party = rbmParty(event);
  const resolved = resolveLocaleDetailed(
    {
      channel: event.channel,
      context: event.context,
      ...party,
      ...(input.compareDeviceLanguage !== undefined ? { compareDeviceLanguage: input.compareDeviceLanguage } : {}),
    },
    config,
  );
  const fromMessage = resolved.source === 'resolvedLocale' || resolved.source === 'userDeviceLocale';
  const stored = context.locale !== undefined ? canonicalizeLocale(context.locale) : undefined;
  const locale = fromMessage ? resolved.locale : (stored ?? resolved.locale);
  const displayName = event.context?.displayName?.trim() || context.displayName;
  const recipient: Recipient = {
    locale,
    ...(displayName !== undefined ? { displayName } : {}),
    ...(party.agentId !== undefined ? { agentId: party.agentId } : {}),
  };
  const base: RoutingContextUpdate = { isNew: false, locale, ...(displayName !== undefined ? { displayName } : {}) };
  return { config, event, context, recipient, base };
}

function handoff(
  s: Situation,
  reason: HandoffReason,
  options: { placeId?: string; reply?: OutboundContent; intent?: string; update?: RoutingContextUpdate } = {},
): HandoffDecision {
  const placeId = options.placeId ?? s.context.confirmedPlaceId;
  const { queue } = selectQueue(s.config, {
    locale: s.recipient.locale,
    ...(placeId !== undefined ? { placeId } : {}),
  });
  return {
    action: 'handoff',
    queue,
    reason,
    reply: options.reply ?? handoffAcknowledgement(s.recipient, s.config, placeId),
    ...(placeId !== undefined ? { placeId } : {}),
    ...(options.intent !== undefined ? { intent: options.intent } : {}),
    locale: s.recipient.locale,
    contextUpdate: { ...s.base, ...options.update, handoffQueue: queue },
  };
}

function confirmPlace(s: Situation, placeId: string, update: RoutingContextUpdate): ConfirmPlaceDecision {
  return {
    action: 'confirm_place',
    placeId,
    reply: confirmPlaceReply(s.config, s.recipient, s.context.isNew, placeId),
    locale: s.recipient.locale,
    contextUpdate: { ...update, placeConfirmation: { placeId, status: 'pending' } },
  };
}

/** Sign-in results are answered by automation whoever else is waiting: only a live agent takes them over. */
function decideAuth(
  s: Situation,
  content: Extract<InboundMessageEvent['content'], { kind: 'auth' }>,
): AutomationReplyDecision {
  // A code nothing consumed (no AUTH_CODE_URL) counts as before the code was dropped at the API: signed in.
  const succeeded =
    (content.codeOutcome === 'handed_over' || content.codeOutcome === 'dropped') && content.error === undefined;
  return {
    action: 'automation_reply',
    intent: succeeded ? 'auth:success' : 'auth:failure',
    reply: authReply(s.config, s.recipient, succeeded),
    locale: s.recipient.locale,
    contextUpdate: s.base,
  };
}

/** Routing's own chips: place confirmation, sign-in retry, "talk to a person". */
function decideReservedPostback(s: Situation, postbackData: string): RouteDecision | undefined {
  const reserved = parseReservedPostback(postbackData);
  if (reserved === undefined) return undefined;
  switch (reserved.kind) {
    case 'place_confirmed':
      // A chip for a place the file no longer knows is just an unknown postback.
      if (s.config.places[reserved.placeId] === undefined) return undefined;
      return handoff(s, 'place', {
        placeId: reserved.placeId,
        update: {
          confirmedPlaceId: reserved.placeId,
          placeConfirmation: { placeId: reserved.placeId, status: 'confirmed' },
        },
      });
    case 'place_declined': {
      const proposed = s.context.placeConfirmation?.placeId;
      return handoff(
        s,
        'place_declined',
        proposed !== undefined ? { update: { placeConfirmation: { placeId: proposed, status: 'declined' } } } : {},
      );
    }
    case 'auth_retry':
      return { action: 'auth_retry', locale: s.recipient.locale, contextUpdate: s.base };
    case 'agent_request':
      return handoff(s, 'user_request');
  }
}

/** A known question: answer it in the user's language, or hand it to someone who speaks it. */
function answerFaq(s: Situation, entry: FaqEntry): RouteDecision {
  if (entry.handoff) return handoff(s, 'user_request', { intent: entry.id });
  const reply = faqReply(s.config, s.recipient, s.context.isNew, entry);
  if (reply === undefined) return handoff(s, 'no_answer_in_locale', { intent: entry.id });
  return {
    action: 'automation_reply',
    intent: entry.id,
    reply,
    locale: s.recipient.locale,
    contextUpdate: { ...s.base, automationFailures: 0 },
  };
}

/** Automation could not answer: ask again while tries are left, then a human. */
function notUnderstood(s: Situation): RouteDecision {
  const failures = s.context.automationFailures + 1;
  if (failures >= s.config.automation.maxFailedAttempts)
    return handoff(s, 'automation_failed', { update: { automationFailures: failures } });
  return {
    action: 'retry_prompt',
    reply: retryReply(s.config, s.recipient, s.context.isNew),
    attempt: failures,
    locale: s.recipient.locale,
    contextUpdate: { ...s.base, automationFailures: failures },
  };
}

/**
 * Routes one user message. Rules, first match wins:
 * 1. A live agent is in the conversation → that agent.
 * 2. Dialogflow already answered (`autoResponded`) → no second answer.
 * 3. A sign-in result → success, or a localized error with a "try again" chip.
 * 4. Handed to a queue and no agent yet → the message waits for the human.
 * 5. Routing's own chips (`place:<id>`, `place:none`, `auth:retry`, `agent:request`).
 * 6. A placeId not yet routed → the place's queue.
 * 7. Automation does not speak the user's language → a queue that does.
 * 8. A nearPlaceId not yet proposed → ask the user to confirm the place.
 * 9. A shared location → confirm the nearest known place, else a human.
 * 10. An image or a file → acknowledged, to a human.
 * 11. A chip's postback data, or keywords in the user's language, naming an FAQ entry → its answer
 *     (a human who speaks the language when the entry has no answer in it).
 * 12. Anything else → "didn't understand" until `maxFailedAttempts`, then a human.
 */
export function decideRoute(input: RouteInput, config: RoutingConfig): RouteDecision {
  const s = situationOf(input, config);
  const { event, context } = input;
  const content = event.content;

  if (context.liveAgent !== undefined) {
    const { id, queue } = context.liveAgent;
    return {
      action: 'live_agent',
      agentId: id,
      ...(queue !== undefined ? { queue } : {}),
      locale: s.recipient.locale,
      contextUpdate: s.base,
    };
  }
  if (event.dialogflow?.autoResponded === true) {
    // The user got an answer, so this message does not count against automation.
    return {
      action: 'no_reply',
      reason: 'dialogflow_auto_responded',
      locale: s.recipient.locale,
      contextUpdate: { ...s.base, automationFailures: 0 },
    };
  }
  if (content.kind === 'auth') return decideAuth(s, content);
  if (context.handoffQueue !== undefined)
    return { action: 'queued', queue: context.handoffQueue, locale: s.recipient.locale, contextUpdate: s.base };
  if (content.kind === 'suggestion') {
    const reserved = decideReservedPostback(s, content.postbackData);
    if (reserved !== undefined) return reserved;
  }

  // Anything but a place chip answers a pending place question in the negative: ask once, not in a loop.
  const pending = context.placeConfirmation?.status === 'pending' ? context.placeConfirmation : undefined;
  if (pending !== undefined)
    s.base = { ...s.base, placeConfirmation: { placeId: pending.placeId, status: 'declined' } };

  const placeId = event.context?.placeId;
  if (placeId !== undefined && config.places[placeId] !== undefined && context.confirmedPlaceId !== placeId) {
    return handoff(s, 'place', { placeId, update: { confirmedPlaceId: placeId } });
  }

  if (automationLocale(config, s.recipient.locale) === undefined) return handoff(s, 'locale_unsupported');

  const nearPlaceId = event.context?.nearPlaceId;
  if (
    nearPlaceId !== undefined &&
    config.places[nearPlaceId] !== undefined &&
    context.confirmedPlaceId === undefined &&
    context.placeConfirmation?.placeId !== nearPlaceId
  ) {
    return confirmPlace(s, nearPlaceId, s.base);
  }

  switch (content.kind) {
    case 'location': {
      const nearest = nearestPlace(config, content);
      if (nearest === undefined) return handoff(s, 'location');
      // Sharing a location near the place already confirmed or just proposed answers the question.
      if (nearest.placeId === context.confirmedPlaceId || nearest.placeId === pending?.placeId) {
        return handoff(s, 'place', {
          placeId: nearest.placeId,
          update: {
            confirmedPlaceId: nearest.placeId,
            placeConfirmation: { placeId: nearest.placeId, status: 'confirmed' },
          },
        });
      }
      return confirmPlace(s, nearest.placeId, s.base);
    }
    case 'image':
    case 'file':
      return handoff(s, 'attachment', { reply: attachmentReply(config, s.recipient) });
    case 'suggestion': {
      const entry = faqByPostback(content.postbackData, config);
      return entry !== undefined ? answerFaq(s, entry) : notUnderstood(s);
    }
    case 'text': {
      const match = matchFaq(content.text, s.recipient.locale, config);
      return match !== undefined ? answerFaq(s, match.entry) : notUnderstood(s);
    }
  }
}

/**
 * A Business Messages live-agent request (userStatus.requestedLiveAgent): to the conversation's
 * agent or queue if it has one, else a handoff with an acknowledgement in the user's language.
 */
export function decideLiveAgentRequest(context: RoutingContext, config: RoutingConfig): RouteDecision {
  const locale =
    (context.locale !== undefined ? canonicalizeLocale(context.locale) : undefined) ?? config.defaultLocale;
  const recipient: Recipient = {
    locale,
    ...(context.displayName !== undefined ? { displayName: context.displayName } : {}),
  };
  if (context.liveAgent !== undefined) {
    const { id, queue } = context.liveAgent;
    return { action: 'live_agent', agentId: id, ...(queue !== undefined ? { queue } : {}), locale, contextUpdate: {} };
  }
  if (context.handoffQueue !== undefined)
    return { action: 'queued', queue: context.handoffQueue, locale, contextUpdate: {} };
  const placeId = context.confirmedPlaceId;
  const { queue } = selectQueue(config, { locale, ...(placeId !== undefined ? { placeId } : {}) });
  return {
    action: 'handoff',
    queue,
    reason: 'user_request',
    reply: handoffAcknowledgement(recipient, config, placeId),
    ...(placeId !== undefined ? { placeId } : {}),
    locale,
    contextUpdate: { locale, handoffQueue: queue },
  };
}
