/** The two channels Switchboard speaks. */
export type Channel = 'rbm' | 'bm';

/** `rbm:{agentId}:{msisdn}` (E.164) or `bm:{conversationId}`: one conversation, one workflow. */
export type ConversationKey = string;

export type ParsedConversationKey =
  { channel: 'rbm'; agentId: string; msisdn: string } | { channel: 'bm'; conversationId: string };

/** Thrown for a key that is not `rbm:{agentId}:{E.164}` or `bm:{conversationId}`. */
export class InvalidConversationKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`invalid conversation key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidConversationKeyError';
  }
}

const E164 = /^\+[1-9]\d{6,14}$/;

export function rbmConversationKey(agentId: string, msisdn: string): ConversationKey {
  return `rbm:${agentId}:${msisdn}`;
}

export function bmConversationKey(conversationId: string): ConversationKey {
  return `bm:${conversationId}`;
}

export function parseConversationKey(key: string): ParsedConversationKey {
  if (key.startsWith('rbm:')) {
    const rest = key.slice(4);
    const sep = rest.lastIndexOf(':');
    if (sep <= 0) throw new InvalidConversationKeyError(key, 'expected rbm:{agentId}:{msisdn}');
    const agentId = rest.slice(0, sep);
    const msisdn = rest.slice(sep + 1);
    if (!E164.test(msisdn)) throw new InvalidConversationKeyError(key, 'msisdn must be E.164, e.g. +14155550100');
    return { channel: 'rbm', agentId, msisdn };
  }
  if (key.startsWith('bm:')) {
    const conversationId = key.slice(3);
    if (conversationId.length === 0 || conversationId.includes('/'))
      throw new InvalidConversationKeyError(key, 'expected bm:{conversationId}');
    return { channel: 'bm', conversationId };
  }
  throw new InvalidConversationKeyError(key, 'must start with rbm: or bm:');
}

/**
 * Masks a phone number for logs, memos and workflow IDs: keeps the leading `+` and country-code
 * digits and the last two digits, e.g. `+4477•••••••23`.
 */
export function maskPhone(msisdn: string): string {
  if (msisdn.length <= 6) return '•'.repeat(msisdn.length);
  return msisdn.slice(0, 3) + '•'.repeat(msisdn.length - 5) + msisdn.slice(-2);
}

/** The conversation key with any phone number masked, safe for logs. */
export function maskConversationKey(key: ConversationKey): string {
  try {
    const parsed = parseConversationKey(key);
    return parsed.channel === 'rbm' ? `rbm:${parsed.agentId}:${maskPhone(parsed.msisdn)}` : key;
  } catch {
    return '<invalid key>';
  }
}
