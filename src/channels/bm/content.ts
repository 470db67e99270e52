import { FailureType } from '../../domain/errors';
import { type OutboundContent, type Representative } from '../../domain/outbound';
import { permanentFailure } from '../failures';
import { type GoogleSuggestion, toGoogleSuggestions } from '../suggestions';

/** Business Messages `Representative`. */
export interface BmRepresentative {
  representativeType: 'BOT' | 'HUMAN';
  displayName?: string;
}

/** Business Messages `Message` request body (content union: text or rich card). */
export interface BmMessage {
  messageId: string;
  representative: BmRepresentative;
  text?: string;
  richCard?: Record<string, unknown>;
  /** Shown when the device cannot render the content. */
  fallback?: string;
  suggestions?: GoogleSuggestion[];
}

export function toBmRepresentative(rep: Representative): BmRepresentative {
  return { representativeType: rep.type, ...(rep.displayName ? { displayName: rep.displayName } : {}) };
}

/** Builds the Business Messages body; the id is the workflow's, never generated here. */
export function toBmMessage(messageId: string, content: OutboundContent, representative: Representative): BmMessage {
  if (content.text === undefined && content.richCard === undefined)
    throw permanentFailure('a Business Messages message needs text or a rich card', FailureType.InvalidRequest);
  if (content.text !== undefined && content.richCard !== undefined)
    throw permanentFailure(
      'a Business Messages message carries either text or a rich card, not both',
      FailureType.InvalidRequest,
    );
  const suggestions = toGoogleSuggestions(content.suggestions);
  if (suggestions && suggestions.length > 13)
    throw permanentFailure('Business Messages allows at most 13 suggestions', FailureType.InvalidRequest);
  return {
    messageId,
    representative: toBmRepresentative(representative),
    ...(content.text !== undefined ? { text: content.text } : {}),
    ...(content.richCard !== undefined ? { richCard: content.richCard } : {}),
    ...(content.fallbackText !== undefined ? { fallback: content.fallbackText } : {}),
    ...(suggestions ? { suggestions } : {}),
  };
}
