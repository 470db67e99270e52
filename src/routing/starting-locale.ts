import { type ConversationKey, parseConversationKey } from '../domain/conversation-key';
import { type InboundEvent } from '../domain/inbound';
import { resolveLocaleDetailed } from './locale';
import { senderCountryOf } from './phone-country';
import { type RoutingConfig } from './types';

/**
 * The locale a new conversation's routing will decide for the events that start it, so the API can
 * give it with the start as a search attribute (the workflow then upserts it only if routing
 * decides otherwise: one billed action less per new conversation). The same rule as routing's
 * first decision (decide.ts `situationOf`, nothing stored yet): a Business Messages message's own
 * locale; an RBM number's country; else the agent's default. Undefined when the events say nothing
 * (a Business Messages conversation started by a receipt or a typing event).
 */
export function startingLocale(
  key: ConversationKey,
  events: readonly InboundEvent[],
  config: RoutingConfig,
): string | undefined {
  let parsed: ReturnType<typeof parseConversationKey>;
  try {
    parsed = parseConversationKey(key);
  } catch {
    return undefined;
  }
  const message = events.find((e): e is Extract<InboundEvent, { type: 'message' }> => e.type === 'message');
  if (parsed.channel === 'bm') {
    if (!message) return undefined;
    return resolveLocaleDetailed(
      { channel: 'bm', ...(message.context ? { context: message.context } : {}), compareDeviceLanguage: true },
      config,
    ).locale;
  }
  const senderCountry = message?.senderCountry ?? senderCountryOf(parsed.msisdn);
  return resolveLocaleDetailed(
    { channel: 'rbm', msisdn: parsed.msisdn, agentId: parsed.agentId, ...(senderCountry ? { senderCountry } : {}) },
    config,
  ).locale;
}
