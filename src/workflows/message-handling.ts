import { log } from '@temporalio/workflow';

import { type OutboundContent } from '../domain/outbound';
import {
  applyContextUpdate,
  decideLiveAgentRequest,
  decideRoute,
  type RouteDecision,
  type RoutingConfig,
} from '../routing';
import { recordActivityFailure } from './activity-failures';
import { channelActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';
import { type UserMessageEvent } from './definitions';
import { type HandoffController } from './handoff';
import { type ReadReceiptInReply } from './outbound/types';
import { type ReadReceipts } from './receipts';

export interface MessageHandlingDeps {
  state: ConversationState;
  handoff: HandoffController;
  /** Validated routing file; without one every message goes to the default human queue. */
  routing: RoutingConfig | undefined;
  /** Sends automation's reply (stops the typing indicator as it goes out), with a user message's READ receipt in the same activity if asked. */
  reply(
    content: OutboundContent,
    options?: { readReceiptFor?: string },
  ): Promise<{ readReceipt?: ReadReceiptInReply['state'] } | undefined>;
  receipts: ReadReceipts;
  /**
   * The receipt runs beside the reply instead of before it, so a slow or failing receipt does not
   * hold the reply up (false only for runs started before that change).
   */
  replyBesideReceipt: boolean;
  /**
   * Routing compares the language of the BM device locale too: `resolvedLocale` alone is Google's
   * match against the agent's own locales and hides a language the agent does not speak.
   */
  bmDeviceLanguage: boolean;
  /** Issue 14: automation's answer carries the question's READ receipt (one activity); false for runs started before COST_PATCHES.readReceiptInReply. */
  readReceiptInReply: boolean;
}

/** Business Messages' suggestion and authentication responses are not user messages with an id of their own: no receipt. */
function getsReadReceipt(state: ConversationState, message: UserMessageEvent): boolean {
  return !(state.channel === 'bm' && (message.content.kind === 'suggestion' || message.content.kind === 'auth'));
}

/**
 * Marks a user message READ once: automation reads what it accepted at once. Business Messages'
 * suggestion and authentication responses are not user messages with an id of their own, so they
 * get no receipt.
 */
async function markReadByAutomation(deps: MessageHandlingDeps, message: UserMessageEvent): Promise<void> {
  const { state } = deps;
  if (!getsReadReceipt(state, message)) return;
  if (deps.replyBesideReceipt) {
    // The reply does not wait for the receipt; ReadReceipts records a failure.
    void deps.receipts.send(message.messageId);
    return;
  }
  // Runs started before that change: the receipt first, exactly as they recorded it; a failure is recorded, not fatal.
  if (!state.claimReadReceipt(message.messageId)) return;
  try {
    await channelActivities.sendReadReceipt({
      conversationKey: state.key,
      messageId: message.messageId,
      eventId: `read-${message.messageId}`,
    });
  } catch (err) {
    recordActivityFailure(state, 'read_receipt', err, message.messageId);
  }
}

/**
 * Automation's answer and the question's READ receipt in one activity. The receipt is claimed
 * first (no second one starts meanwhile); when the reply's activity could not send it (failed,
 * hung, or the reply was never sent) it goes out on its own, as before.
 */
async function replyWithReadReceipt(
  deps: MessageHandlingDeps,
  message: UserMessageEvent,
  content: OutboundContent,
): Promise<void> {
  const { receipts } = deps;
  if (!receipts.claim(message.messageId)) {
    await deps.reply(content);
    return;
  }
  let outcome: ReadReceiptInReply['state'] | undefined;
  try {
    outcome = (await deps.reply(content, { readReceiptFor: message.messageId }))?.readReceipt;
  } finally {
    receipts.settleInReply(message.messageId, outcome === 'sent');
  }
}

/** Routes one user message and carries out the decision. */
export async function handleUserMessage(message: UserMessageEvent, deps: MessageHandlingDeps): Promise<void> {
  const { state, routing } = deps;
  if (!routing) {
    state.recordDecision(message.messageId, 'handoff', new Date().toISOString(), 'no routing file: default queue');
    state.markUnreadByAgent(message.messageId);
    state.routing = { ...state.routing, isNew: false };
    await deps.handoff.request(state.routing.handoffQueue ?? 'default', 'no routing file configured');
    return;
  }
  const decision = decideRoute(
    { event: message, context: state.routing, compareDeviceLanguage: deps.bmDeviceLanguage },
    routing,
  );
  await carryOut(decision, message, deps);
}

/** The user tapped "talk to a person" (Business Messages userStatus.requestedLiveAgent). */
export async function handleLiveAgentRequest(deps: MessageHandlingDeps): Promise<void> {
  const { state, routing } = deps;
  if (!routing) {
    await deps.handoff.request(state.routing.handoffQueue ?? 'default', 'user_request');
    return;
  }
  await carryOut(decideLiveAgentRequest(state.routing, routing), undefined, deps);
}

async function carryOut(
  decision: RouteDecision,
  message: UserMessageEvent | undefined,
  deps: MessageHandlingDeps,
): Promise<void> {
  const { state, handoff } = deps;
  state.routing = applyContextUpdate(state.routing, { ...decision.contextUpdate, locale: decision.locale });
  const detail =
    'queue' in decision
      ? decision.queue
      : 'intent' in decision
        ? decision.intent
        : 'agentId' in decision
          ? decision.agentId
          : 'reason' in decision
            ? decision.reason
            : undefined;
  state.recordDecision(message?.messageId ?? '-', decision.action, new Date().toISOString(), detail);

  switch (decision.action) {
    case 'automation_reply':
    case 'retry_prompt':
    case 'confirm_place':
      // Automation composes instantly: no typing indicator that the reply would replace at once
      // (it would only cost activity calls); the keep-alive serves human agents.
      if (message && deps.readReceiptInReply && getsReadReceipt(state, message)) {
        await replyWithReadReceipt(deps, message, decision.reply);
        return;
      }
      if (message) await markReadByAutomation(deps, message);
      await deps.reply(decision.reply);
      return;
    case 'no_reply':
    case 'auth_retry':
      // Dialogflow answered already / the OAuth request is the agent's own: nothing more to send.
      if (message) await markReadByAutomation(deps, message);
      if (decision.action === 'auth_retry') log.info('user asked to retry sign-in');
      return;
    case 'handoff':
      if (message) state.markUnreadByAgent(message.messageId);
      await deps.reply(decision.reply);
      await handoff.request(decision.queue, decision.reason);
      return;
    case 'live_agent':
    case 'queued':
      if (message) state.markUnreadByAgent(message.messageId);
      return;
  }
}
