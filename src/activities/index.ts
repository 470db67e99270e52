import { type ConversationKey } from '../domain/conversation-key';

/** What the activities need from the outside world; injected once by the worker. */
export interface ActivityDeps {
  channels: {
    /** Marks a user's message READ on its channel (RBM agent event / BM receipt). Idempotent per message. */
    sendReadReceipt(args: { conversationKey: ConversationKey; messageId: string }): Promise<void>;
  };
}

/** Builds the activity implementations around their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    async sendReadReceipt(args: { conversationKey: ConversationKey; messageId: string }): Promise<void> {
      await deps.channels.sendReadReceipt(args);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
