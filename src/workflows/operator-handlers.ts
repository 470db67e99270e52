import { ApplicationFailure, setHandler } from '@temporalio/workflow';

import { recordActivityFailure } from './activity-failures';
import { channelActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';
import { agentTypingUpdate, assignUpdate, markReadUpdate } from './definitions';
import { type HandoffController } from './handoff';
import { type ReadReceipts } from './receipts';
import { type TypingIndicator } from './typing';

export interface OperatorHandlerDeps {
  state: ConversationState;
  handoff: HandoffController;
  typing: TypingIndicator;
  receipts: ReadReceipts;
  /**
   * A receipt counts once its activity succeeded, so a failed one is not taken for sent (false only
   * for runs started before that change).
   */
  receiptAfterSuccess: boolean;
  /** An operator acted: the conversation is active (wakes a dormant run, moves the idle deadline). */
  onOperatorActivity?: () => void;
}

/** The operator API's updates: mark read, agent typing, assign to a human or back to automation. */
export function registerOperatorHandlers({
  state,
  handoff,
  typing,
  receipts,
  receiptAfterSuccess,
  onOperatorActivity,
}: OperatorHandlerDeps): void {
  setHandler(
    markReadUpdate,
    async ({ messageIds }) => {
      onOperatorActivity?.();
      const wanted = messageIds ?? [...state.unreadByAgent()];
      const marked: string[] = [];
      const failed: string[] = [];
      for (const messageId of wanted) {
        if (receiptAfterSuccess) {
          // Counted as sent only once its activity succeeded; a failure is recorded and reported here.
          if (await receipts.send(messageId)) marked.push(messageId);
          else if (!state.receiptWasSent(messageId)) failed.push(messageId);
          continue;
        }
        // Runs started before that change, as they recorded it; a failure is recorded, not fatal.
        if (!state.claimReadReceipt(messageId)) continue;
        marked.push(messageId);
        try {
          await channelActivities.sendReadReceipt({
            conversationKey: state.key,
            messageId,
            eventId: `read-${messageId}`,
          });
        } catch (err) {
          recordActivityFailure(state, 'read_receipt', err, messageId);
        }
      }
      return failed.length > 0 ? { marked, failed } : { marked };
    },
    {
      validator: ({ agentId, messageIds }) => {
        if (!agentId) throw ApplicationFailure.nonRetryable('agentId is required', 'InvalidOperatorRequest');
        const known = new Set(state.history.filter((h) => h.direction === 'inbound').map((h) => h.messageId));
        const unknown = (messageIds ?? []).filter(
          (id: string) => !known.has(id) && !state.unreadByAgent().includes(id),
        );
        if (unknown.length > 0)
          throw ApplicationFailure.nonRetryable(
            `unknown user message id(s): ${unknown.join(', ')}`,
            'InvalidOperatorRequest',
          );
      },
    },
  );

  setHandler(
    agentTypingUpdate,
    async ({ agentId, typing: isTyping }) => {
      onOperatorActivity?.();
      const agent =
        state.assignment.kind === 'human' && state.assignment.agentId === agentId ? state.assignment : undefined;
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

  setHandler(
    assignUpdate,
    async (request) => {
      onOperatorActivity?.();
      return { assignedTo: await handoff.assign(request) };
    },
    {
      validator: (request) => {
        if (request.to !== 'human' && request.to !== 'automation')
          throw ApplicationFailure.nonRetryable('to must be "human" or "automation"', 'InvalidOperatorRequest');
        if (request.to === 'human' && !request.agentId)
          throw ApplicationFailure.nonRetryable('agentId is required to assign to a human', 'InvalidOperatorRequest');
      },
    },
  );
}
