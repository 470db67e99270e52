import { channelActivities } from './activity-proxies';
import { type ConversationState, type UserMessageEvent } from './conversation-state';
import { type HandoffController } from './handoff';

export interface MessageHandlingDeps {
  state: ConversationState;
  handoff: HandoffController;
}

/** Marks a user message READ once: automation reads what it accepted at once. */
export async function markReadByAutomation(state: ConversationState, message: UserMessageEvent): Promise<void> {
  if (!state.claimReadReceipt(message.messageId)) return;
  await channelActivities.sendReadReceipt({ conversationKey: state.key, messageId: message.messageId, eventId: `read-${message.messageId}` });
}

/**
 * Routes one user message. A conversation with a live or awaited human stays with them (the agent
 * marks it read through the operator API); otherwise routing decides.
 */
export async function handleUserMessage(message: UserMessageEvent, { state, handoff }: MessageHandlingDeps): Promise<void> {
  const at = new Date().toISOString();
  const assignment = state.assignment;
  if (assignment.kind === 'human') {
    state.markUnreadByAgent(message.messageId);
    state.recordDecision(message.messageId, 'live_agent', at, assignment.agentId);
    return;
  }
  if (assignment.kind === 'queue') {
    state.markUnreadByAgent(message.messageId);
    state.recordDecision(message.messageId, 'queued', at, assignment.queue);
    return;
  }
  state.recordDecision(message.messageId, 'handoff', at, 'default');
  state.markUnreadByAgent(message.messageId);
  await handoff.request('default', 'no routing rules configured');
}
