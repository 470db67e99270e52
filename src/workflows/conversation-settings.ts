import { type ConversationSettings } from './definitions';

/** Defaults for every conversation; the API may override them per start (tests do). */
export const DEFAULT_CONVERSATION_SETTINGS: ConversationSettings = {
  idleTimeout: '7 days',
  handoffSla: '5 minutes',
  typingKeepAlive: '15 seconds',
  continueAsNewAfterEvents: 10_000,
  maxHistory: 100,
  dedupeWindow: 2000,
};

export function resolveSettings(overrides: Partial<ConversationSettings> | undefined): ConversationSettings {
  return { ...DEFAULT_CONVERSATION_SETTINGS, ...overrides };
}
