import { FailureType } from '../domain/errors';
import { type Suggestion } from '../domain/outbound';
import { permanentFailure } from './failures';

/** A suggestion chip as RBM and Business Messages both spell it (same JSON in both APIs). */
export type GoogleSuggestion =
  | { reply: { text: string; postbackData: string } }
  | {
      action: {
        text: string;
        postbackData: string;
        openUrlAction?: { url: string };
        dialAction?: { phoneNumber: string };
      };
    };

/**
 * Maps channel-neutral suggestions to Google's JSON. An action needs something to do: one without
 * openUrl or dialPhoneNumber is a bad request, reported as such rather than silently downgraded.
 */
export function toGoogleSuggestions(suggestions: readonly Suggestion[] | undefined): GoogleSuggestion[] | undefined {
  if (!suggestions || suggestions.length === 0) return undefined;
  return suggestions.map((s, i): GoogleSuggestion => {
    if (s.kind === 'reply') return { reply: { text: s.text, postbackData: s.postbackData } };
    if (s.openUrl) return { action: { text: s.text, postbackData: s.postbackData, openUrlAction: { url: s.openUrl } } };
    if (s.dialPhoneNumber)
      return { action: { text: s.text, postbackData: s.postbackData, dialAction: { phoneNumber: s.dialPhoneNumber } } };
    throw permanentFailure(
      `suggestion ${i} is an action without openUrl or dialPhoneNumber`,
      FailureType.InvalidRequest,
    );
  });
}
