import { log } from '@temporalio/workflow';
import { type OutboundContent } from '../domain/outbound';
import { applyContextUpdate, decideLiveAgentRequest, decideRoute, type RouteDecision, type RoutingConfig } from '../routing';
import { channelActivities } from './activity-proxies';
import { type ConversationState, type UserMessageEvent } from './conversation-state';
import { type HandoffController } from './handoff';

export interface MessageHandlingDeps {
  state: ConversationState;
  handoff: HandoffController;
  /** Validated routing file; without one every message goes to the default human queue. */
  routing: RoutingConfig | undefined;
  /** Sends automation's reply (stops the typing indicator as it goes out). */
  reply(content: OutboundContent): Promise<unknown>;
}

/**
 * Marks a user message READ once: automation reads what it accepted at once. Business Messages'
 * suggestion and authentication responses are not user messages with an id of their own, so they
 * get no receipt.
 */
async function markReadByAutomation(state: ConversationState, message: UserMessageEvent): Promise<void> {
  if (state.channel === 'bm' && (message.content.kind === 'suggestion' || message.content.kind === 'auth')) return;
  if (!state.claimReadReceipt(message.messageId)) return;
  await channelActivities.sendReadReceipt({ conversationKey: state.key, messageId: message.messageId, eventId: `read-${message.messageId}` });
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
  const decision = decideRoute({ event: message, context: state.routing }, routing);
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

async function carryOut(decision: RouteDecision, message: UserMessageEvent | undefined, deps: MessageHandlingDeps): Promise<void> {
  const { state, handoff } = deps;
  state.routing = applyContextUpdate(state.routing, { ...decision.contextUpdate, locale: decision.locale });
  const detail = 'queue' in decision ? decision.queue : 'intent' in decision ? decision.intent : 'agentId' in decision ? decision.agentId : 'reason' in decision ? decision.reason : undefined;
  state.recordDecision(message?.messageId ?? '-', decision.action, new Date().toISOString(), detail);

  switch (decision.action) {
    case 'automation_reply':
    case 'retry_prompt':
    case 'confirm_place':
      // Automation composes instantly: no typing indicator that the reply would replace at once
      // (it would only cost activity calls); the keep-alive serves human agents.
      if (message) await markReadByAutomation(state, message);
      await deps.reply(decision.reply);
      return;
    case 'no_reply':
    case 'auth_retry':
      // Dialogflow answered already / the OAuth request is the agent's own: nothing more to send.
      if (message) await markReadByAutomation(state, message);
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
