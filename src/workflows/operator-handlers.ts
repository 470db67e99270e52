import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { channelActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';
import { agentTypingUpdate, assignUpdate, markReadUpdate } from './definitions';
import { type HandoffController } from './handoff';
import { type TypingIndicator } from './typing';

export interface OperatorHandlerDeps {
  state: ConversationState;
  handoff: HandoffController;
  typing: TypingIndicator;
}

/** The operator API's updates: mark read, agent typing, assign to a human or back to automation. */
export function registerOperatorHandlers({ state, handoff, typing }: OperatorHandlerDeps): void {
  setHandler(
    markReadUpdate,
    async ({ messageIds }) => {
      const wanted = messageIds ?? [...state.unreadByAgent()];
      const marked: string[] = [];
      for (const messageId of wanted) {
        if (!state.claimReadReceipt(messageId)) continue;
        marked.push(messageId);
        await channelActivities.sendReadReceipt({ conversationKey: state.key, messageId, eventId: `read-${messageId}` });
      }
      return { marked };
    },
    {
      validator: ({ agentId, messageIds }) => {
        if (!agentId) throw ApplicationFailure.nonRetryable('agentId is required', 'InvalidOperatorRequest');
        const known = new Set(state.history.filter((h) => h.direction === 'inbound').map((h) => h.messageId));
        const unknown = (messageIds ?? []).filter((id: string) => !known.has(id) && !state.unreadByAgent().includes(id));
        if (unknown.length > 0) throw ApplicationFailure.nonRetryable(`unknown user message id(s): ${unknown.join(', ')}`, 'InvalidOperatorRequest');
      },
    },
  );

  setHandler(
    agentTypingUpdate,
    async ({ agentId, typing: isTyping }) => {
      const agent = state.assignment.kind === 'human' && state.assignment.agentId === agentId ? state.assignment : undefined;
      if (isTyping) typing.start({ type: 'HUMAN', displayName: agent?.displayName });
      else await typing.stop(true);
      return { typing: isTyping };
    },
    {
      validator: ({ agentId }) => {
        if (!agentId) throw ApplicationFailure.nonRetryable('agentId is required', 'InvalidOperatorRequest');
      },
    },
  );

  setHandler(assignUpdate, async (request) => ({ assignedTo: await handoff.assign(request) }), {
    validator: (request) => {
      if (request.to !== 'human' && request.to !== 'automation') throw ApplicationFailure.nonRetryable('to must be "human" or "automation"', 'InvalidOperatorRequest');
      if (request.to === 'human' && !request.agentId) throw ApplicationFailure.nonRetryable('agentId is required to assign to a human', 'InvalidOperatorRequest');
    },
  });
}
