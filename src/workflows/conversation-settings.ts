import { type ConversationSettings } from './definitions';

/** Google redelivers an unacknowledged event for up to 7 days: message and receipt ids are kept a day longer. */
export const DEFAULT_DEDUPE_RETENTION = '8 days';
/** Hard cap on the message / receipt ids kept (they ride in every continue-as-new input: ~60 bytes each). */
export const DEFAULT_DEDUPE_MAX_KEYS = 5000;

/** Defaults for every conversation; the API may override them per start (tests do). */
const DEFAULT_CONVERSATION_SETTINGS: ConversationSettings = {
  idleTimeout: '7 days',
  handoffSla: '5 minutes',
  typingKeepAlive: '15 seconds',
  continueAsNewAfterEvents: 10_000,
  maxHistory: 100,
  dedupeWindow: 2000,
  dedupeRetention: DEFAULT_DEDUPE_RETENTION,
  dedupeMaxKeys: DEFAULT_DEDUPE_MAX_KEYS,
  typingMaxDuration: '2 minutes',
};

export function resolveSettings(overrides: Partial<ConversationSettings> | undefined): ConversationSettings {
  return { ...DEFAULT_CONVERSATION_SETTINGS, ...overrides };
}
