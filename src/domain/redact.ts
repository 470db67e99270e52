/**
 * Last line of defence for phone numbers in logs: callers are meant to mask numbers themselves
 * (maskPhone, maskConversationKey), but SDK messages, error texts and request paths can carry one
 * (an RBM URL is `/v1/phones/+14155550123/agentMessages`; an API path has `%2B14155550123`).
 */
import { maskPhone } from './conversation-key';

// E.164: "+" (or its percent-encoding) then 7 to 15 digits, the first not 0. A following digit
// would make it something longer than a phone number, so it must not match.
const E164_ANYWHERE = /(?:\+|%2B)([1-9]\d{6,14})(?!\d)/gi;

/** The text with every E.164-looking number masked the way maskPhone does it (`+1415•••••23`). */
export function maskPhoneNumbersIn(text: string): string {
  return text.replace(E164_ANYWHERE, (_match, digits: string) => maskPhone(`+${digits}`));
}
