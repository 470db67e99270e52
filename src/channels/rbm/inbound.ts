/**
 * RBM inbound: opens the Pub/Sub-style envelope, tells payload kinds apart (reference §2.3) and
 * normalizes user messages, user events and server events into InboundEvents.
 *
 * Classification and dedupe read only the signed bytes (the decoded `message.data`), never the
 * unsigned envelope. Dedupe keys (stable across Google's redeliveries): a user message's
 * `messageId` (or the `eventId` the receive-events guide shows instead), an event's `eventId`;
 * when the payload has neither, a hash of the signed bytes.
 */
import { rbmConversationKey } from '../../domain/conversation-key';
import { type FileInfo, type InboundEvent, type InboundEventBody, type MessageContent } from '../../domain/inbound';
import { senderCountryOf } from '../../routing/phone-country';
import {
  digest,
  type FieldProblem,
  type InboundInterpretation,
  isObject,
  label,
  NOT_JSON,
  type OpenResult,
  parseJsonBytes,
  parseWith,
} from '../inbound-payload';
import {
  RBM_CONTENT_FIELDS,
  RBM_SERVER_EVENT_TYPES,
  RBM_USER_EVENT_TYPES,
  type RbmAgentLaunchEvent,
  rbmAgentLaunchEventSchema,
  type RbmServerEvent,
  rbmServerEventSchema,
  type RbmUserEvent,
  rbmUserEventSchema,
  type RbmUserMessage,
  rbmUserMessageSchema,
} from './inbound-schema';

/** Field paths inside the decoded data are reported under this prefix, so a problem names the field in what Google sent. */
const DATA = 'message.data';

/** Standard or URL-safe base64 (Pub/Sub push writes standard). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Opens an RBM webhook body: finds `message.data` and decodes it (the signed bytes). Nothing else
 * of the envelope is read: it is not signed, so neither classification nor dedupe may depend on it.
 * The decoded JSON is parsed here only to read `agentId` for the token choice; nothing is trusted
 * until the signature is verified.
 */
export function openRbmDelivery(json: unknown): OpenResult {
  const message = isObject(json) ? json.message : undefined;
  const encoded = isObject(message) ? message.data : undefined;
  if (typeof encoded !== 'string' || !BASE64.test(encoded))
    return { ok: false, problems: [{ field: DATA, message: 'must be the base64 of the event Google signed' }] };
  const signedBytes = Buffer.from(encoded, 'base64');
  const data = parseJsonBytes(signedBytes);
  const agentHint = isObject(data) && typeof data.agentId === 'string' ? data.agentId : undefined;
  return {
    ok: true,
    payload: { signedBytes, agentHint, interpret: (receivedAt) => interpretRbmData(signedBytes, data, receivedAt) },
  };
}

/** Reads verified RBM event data: `data` is the JSON parse of `signedBytes` (or NOT_JSON). */
function interpretRbmData(signedBytes: Uint8Array, data: unknown, receivedAt: string): InboundInterpretation {
  if (data === NOT_JSON)
    return invalid('rbm.malformed_json', [{ field: DATA, message: 'must be base64 of a JSON object' }]);
  if (!isObject(data)) return invalid('rbm.unknown', [{ field: DATA, message: 'must decode to a JSON object' }]);

  // Last-resort dedupe key for an event without messageId / eventId: a hash of the signed bytes, which every redelivery repeats.
  const fallbackKey = `rbm-data-${digest(signedBytes)}`;
  const base = { channel: 'rbm' as const, receivedAt };

  if ('newLaunchState' in data || 'oldLaunchState' in data) {
    const parsed = parseWith(rbmAgentLaunchEventSchema, data, DATA);
    if (!parsed.ok) return invalid('rbm.agent_launch_event', parsed.problems);
    return agentLaunchEvent(parsed.value);
  }

  if ('senderPhoneNumber' in data && 'eventType' in data) {
    const unknown = unknownEventType('user', data.eventType, RBM_USER_EVENT_TYPES);
    if (unknown) return unknown;
    const parsed = parseWith(rbmUserEventSchema, data, DATA);
    if (!parsed.ok) return invalid('rbm.user_event', parsed.problems);
    return userEvent(parsed.value, fallbackKey, base);
  }

  if ('senderPhoneNumber' in data) {
    const present = RBM_CONTENT_FIELDS.filter((f) => data[f] !== undefined && data[f] !== null);
    if (present.length === 0) {
      return {
        outcome: 'unrecognized',
        kind: 'rbm.user_message.unknown_content',
        reason: `user message has none of ${RBM_CONTENT_FIELDS.join(', ')}`,
      };
    }
    if (present.length > 1) {
      return invalid('rbm.user_message', [
        {
          field: DATA,
          message: `a user message carries exactly one of ${RBM_CONTENT_FIELDS.join(', ')}; got ${present.join(', ')}`,
        },
      ]);
    }
    const parsed = parseWith(rbmUserMessageSchema, data, DATA);
    if (!parsed.ok) return invalid('rbm.user_message', parsed.problems);
    return userMessage(parsed.value, fallbackKey, base);
  }

  if ('phoneNumber' in data && 'eventType' in data) {
    const unknown = unknownEventType('server', data.eventType, RBM_SERVER_EVENT_TYPES);
    if (unknown) return unknown;
    const parsed = parseWith(rbmServerEventSchema, data, DATA);
    if (!parsed.ok) return invalid('rbm.server_event', parsed.problems);
    return serverEvent(parsed.value, fallbackKey, base);
  }

  return {
    outcome: 'unrecognized',
    kind: 'rbm.unknown',
    reason: 'neither a user message, a user event, a server event nor an agent launch event',
  };
}

/**
 * An agent's launch state changed at a carrier (reference §2.6): about the agent, not a
 * conversation. Acknowledged and logged with the states, region and acting party.
 */
function agentLaunchEvent(e: RbmAgentLaunchEvent): InboundInterpretation {
  const fields: Record<string, string> = {};
  for (const name of [
    'agentId',
    'eventId',
    'regionId',
    'oldLaunchState',
    'newLaunchState',
    'actingParty',
    'sendTime',
  ] as const) {
    const value = e[name];
    if (value !== undefined) fields[name] = value;
  }
  return { outcome: 'notice', kind: 'rbm.agent_launch_event', fields };
}

/** An event type this build does not know is kept for an operator, not refused: undefined for a known (or absent) type. */
function unknownEventType(
  side: 'user' | 'server',
  eventType: unknown,
  known: readonly string[],
): InboundInterpretation | undefined {
  if (typeof eventType !== 'string' || known.includes(eventType)) return undefined;
  return {
    outcome: 'unrecognized',
    kind: `rbm.${side}_event.${label(eventType)}`,
    reason: `${side} event type not known to this build`,
  };
}

function invalid(kind: string, problems: FieldProblem[]): InboundInterpretation {
  return { outcome: 'invalid', kind, problems };
}

type Base = { channel: 'rbm'; receivedAt: string };

function userMessage(m: RbmUserMessage, fallbackKey: string, base: Base): InboundInterpretation {
  const messageId = m.messageId ?? m.eventId ?? fallbackKey;
  // Resolved here, not in the workflow: routing needs the country, and the metadata stays out of workflow contexts.
  const senderCountry = senderCountryOf(m.senderPhoneNumber);
  const event: InboundEvent = {
    ...base,
    conversationKey: rbmConversationKey(m.agentId, m.senderPhoneNumber),
    dedupeKey: messageId,
    occurredAt: m.sendTime,
    type: 'message',
    messageId,
    content: contentOf(m),
    ...(senderCountry ? { senderCountry } : {}),
  };
  return { outcome: 'events', kind: `rbm.user_message.${event.content.kind}`, events: [event] };
}

function contentOf(m: RbmUserMessage): MessageContent {
  if (m.userFile !== undefined) {
    return {
      kind: 'file',
      file: fileInfo(m.userFile.payload),
      ...(m.userFile.thumbnail ? { thumbnail: fileInfo(m.userFile.thumbnail) } : {}),
    };
  }
  if (m.location !== undefined)
    return { kind: 'location', latitude: m.location.latitude, longitude: m.location.longitude };
  if (m.suggestionResponse !== undefined) {
    const s = m.suggestionResponse;
    return {
      kind: 'suggestion',
      postbackData: s.postbackData,
      text: s.text,
      suggestionType: suggestionType(s.type, s.text),
    };
  }
  return { kind: 'text', text: m.text ?? '' };
}

/**
 * The reference's `type`, when present. The receive-events guide's examples omit it and tell a
 * tapped reply (postbackData + text) from a tapped action (postbackData only) by the text alone,
 * so that is the fallback.
 */
function suggestionType(type: string | undefined, text: string | undefined): 'REPLY' | 'ACTION' | 'UNKNOWN' {
  if (type === 'REPLY' || type === 'ACTION') return type;
  if (type !== undefined) return 'UNKNOWN';
  return text === undefined ? 'ACTION' : 'REPLY';
}

function fileInfo(f: { mimeType?: string; fileSizeBytes?: number; fileName?: string; fileUri: string }): FileInfo {
  const info: FileInfo = { fileUri: f.fileUri };
  if (f.mimeType !== undefined) info.mimeType = f.mimeType;
  if (f.fileSizeBytes !== undefined) info.fileSizeBytes = f.fileSizeBytes;
  if (f.fileName !== undefined) info.fileName = f.fileName;
  return info;
}

function userEvent(e: RbmUserEvent, fallbackKey: string, base: Base): InboundInterpretation {
  let body: InboundEventBody;
  switch (e.eventType) {
    case 'DELIVERED':
    case 'READ':
      if (e.messageId === undefined)
        return invalid('rbm.user_event', [
          { field: `${DATA}.messageId`, message: `is required for ${e.eventType} events` },
        ]);
      body = { type: 'receipt', messageId: e.messageId, receipt: e.eventType };
      break;
    case 'IS_TYPING':
      body = { type: 'typing', isTyping: true };
      break;
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      body = { type: 'subscription', subscribed: e.eventType === 'SUBSCRIBE' };
      break;
  }
  const event: InboundEvent = {
    ...base,
    conversationKey: rbmConversationKey(e.agentId, e.senderPhoneNumber),
    dedupeKey: e.eventId ?? fallbackKey,
    occurredAt: e.sendTime,
    ...body,
  };
  return { outcome: 'events', kind: `rbm.user_event.${e.eventType}`, events: [event] };
}

function serverEvent(e: RbmServerEvent, fallbackKey: string, base: Base): InboundInterpretation {
  const event: InboundEvent = {
    ...base,
    conversationKey: rbmConversationKey(e.agentId, e.phoneNumber),
    dedupeKey: e.eventId ?? fallbackKey,
    occurredAt: e.sendTime,
    type: 'ttl_expired',
    messageId: e.messageId,
    revoked: e.eventType === 'TTL_EXPIRATION_REVOKED',
  };
  return { outcome: 'events', kind: `rbm.server_event.${e.eventType}`, events: [event] };
}
