/**
 * Postback data of the chips routing itself sends. Postback data is read instead of the chip's text
 * (Google's Business Messages receive-messages guide: it is machine-readable whatever the label
 * says), so these strings are reserved: FAQ entries may not use these prefixes.
 */

/** `place:<placeId>`: the user confirmed a place. */
export const PLACE_POSTBACK_PREFIX = 'place:';
/** The user is asking about another place than the one proposed. */
export const PLACE_DECLINED_POSTBACK = 'place:none';
/** Retry offered after a failed sign-in. */
export const AUTH_RETRY_POSTBACK = 'auth:retry';
/** "Talk to a person" chip. */
export const AGENT_REQUEST_POSTBACK = 'agent:request';

/** Prefixes FAQ postback data must not start with. */
export const RESERVED_POSTBACK_PREFIXES = ['place:', 'auth:', 'agent:'] as const;

/** One of routing's own postbacks, decoded. */
export type ReservedPostback =
  | { kind: 'place_confirmed'; placeId: string }
  | { kind: 'place_declined' }
  | { kind: 'auth_retry' }
  | { kind: 'agent_request' };

/** The postback for confirming a place. */
export function placePostback(placeId: string): string {
  return `${PLACE_POSTBACK_PREFIX}${placeId}`;
}

/** Reads one of routing's own postbacks; undefined for anything else (FAQ or foreign data). */
export function parseReservedPostback(postbackData: string): ReservedPostback | undefined {
  if (postbackData === PLACE_DECLINED_POSTBACK) return { kind: 'place_declined' };
  if (postbackData.startsWith(PLACE_POSTBACK_PREFIX) && postbackData.length > PLACE_POSTBACK_PREFIX.length) {
    return { kind: 'place_confirmed', placeId: postbackData.slice(PLACE_POSTBACK_PREFIX.length) };
  }
  if (postbackData === AUTH_RETRY_POSTBACK) return { kind: 'auth_retry' };
  if (postbackData === AGENT_REQUEST_POSTBACK) return { kind: 'agent_request' };
  return undefined;
}
