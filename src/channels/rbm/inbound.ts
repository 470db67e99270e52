/**
 * RBM inbound: opens the Pub/Sub-style envelope, tells payload kinds apart (reference §2.3) and
 * normalizes user messages, user events and server events into InboundEvents.
 *
 * Dedupe keys (stable across Google's redeliveries): a user message's `messageId` (or the
 * `eventId` the receive-events guide shows instead), an event's `eventId`; when the payload has
 * neither, the envelope's Pub/Sub `messageId`, and as a last resort a hash of the signed bytes.
 */
import { rbmConversationKey } from '../../domain/conversation-key';
import { type FileInfo, type InboundEvent, type InboundEventBody, type MessageContent } from '../../domain/inbound';
import { senderCountryOf } from '../../routing/phone-country';
import { type FieldProblem, type InboundInterpretation, type OpenResult, digest, isObject, label, parseWith } from '../inbound-payload';
import {
  RBM_CONTENT_FIELDS,
  RBM_SERVER_EVENT_TYPES,
  RBM_USER_EVENT_TYPES,
  type RbmEnvelope,
  type RbmServerEvent,
  type RbmUserEvent,
  type RbmUserMessage,
  rbmEnvelopeSchema,
  rbmServerEventSchema,
  rbmUserEventSchema,
  rbmUserMessageSchema,
} from './inbound-schema';

/** Field paths inside the decoded data are reported under this prefix, so a 400 names the field in what Google sent. */
const DATA = 'message.data';

/**
 * Opens an RBM webhook body: validates the envelope and decodes `message.data` (the signed bytes).
 * The decoded JSON is parsed here only to read `agentId` for the token choice; nothing else is
 * trusted until the signature is verified.
 */
export function openRbmDelivery(json: unknown): OpenResult {
  const envelope = parseWith(rbmEnvelopeSchema, json);
  if (!envelope.ok) return { ok: false, problems: envelope.problems };
  const signedBytes = Buffer.from(envelope.value.message.data, 'base64');
  const data = parseJson(signedBytes);
  const agentHint = isObject(data) && typeof data.agentId === 'string' ? data.agentId : undefined;
  return {
    ok: true,
    payload: { signedBytes, agentHint, interpret: (receivedAt) => interpretRbmData(envelope.value, signedBytes, data, receivedAt) },
  };
}

const NOT_JSON = Symbol('not JSON');

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** Reads verified RBM event data. `data` is the JSON parse of `signedBytes` (or NOT_JSON). */
function interpretRbmData(envelope: RbmEnvelope, signedBytes: Uint8Array, data: unknown, receivedAt: string): InboundInterpretation {
  if (data === NOT_JSON) return invalid('rbm.unknown', [{ field: DATA, message: 'must be base64 of a JSON object' }]);
  if (!isObject(data)) return invalid('rbm.unknown', [{ field: DATA, message: 'must decode to a JSON object' }]);

  // Last-resort dedupe key: Pub/Sub keeps messageId across redeliveries; the hash covers payloads without one.
  const fallbackKey = envelope.message.messageId ?? envelope.message.message_id ?? `rbm-data-${digest(signedBytes)}`;
  const base = { channel: 'rbm' as const, receivedAt };

  if (envelope.message.attributes?.type === 'agent_launch_event' || 'newLaunchState' in data || 'oldLaunchState' in data) {
    return { outcome: 'unrecognized', kind: 'rbm.agent_launch_event', reason: 'agent launch events are not handled by Switchboard' };
  }

  if ('senderPhoneNumber' in data && 'eventType' in data) {
    if (typeof data.eventType === 'string' && !(RBM_USER_EVENT_TYPES as readonly string[]).includes(data.eventType)) {
      return { outcome: 'unrecognized', kind: `rbm.user_event.${label(data.eventType)}`, reason: 'user event type not known to this build' };
    }
    const parsed = parseWith(rbmUserEventSchema, data, DATA);
    if (!parsed.ok) return invalid('rbm.user_event', parsed.problems);
    return userEvent(parsed.value, fallbackKey, base);
  }

  if ('senderPhoneNumber' in data) {
    const present = RBM_CONTENT_FIELDS.filter((f) => data[f] !== undefined && data[f] !== null);
    if (present.length === 0) {
      return { outcome: 'unrecognized', kind: 'rbm.user_message.unknown_content', reason: `user message has none of ${RBM_CONTENT_FIELDS.join(', ')}` };
    }
    if (present.length > 1) {
      return invalid('rbm.user_message', [{ field: DATA, message: `a user message carries exactly one of ${RBM_CONTENT_FIELDS.join(', ')}; got ${present.join(', ')}` }]);
    }
    const parsed = parseWith(rbmUserMessageSchema, data, DATA);
    if (!parsed.ok) return invalid('rbm.user_message', parsed.problems);
    return userMessage(parsed.value, fallbackKey, base);
  }

  if ('phoneNumber' in data && 'eventType' in data) {
    if (typeof data.eventType === 'string' && !(RBM_SERVER_EVENT_TYPES as readonly string[]).includes(data.eventType)) {
      return { outcome: 'unrecognized', kind: `rbm.server_event.${label(data.eventType)}`, reason: 'server event type not known to this build' };
    }
    const parsed = parseWith(rbmServerEventSchema, data, DATA);
    if (!parsed.ok) return invalid('rbm.server_event', parsed.problems);
    return serverEvent(parsed.value, fallbackKey, base);
  }

  return { outcome: 'unrecognized', kind: 'rbm.unknown', reason: 'neither a user message, a user event nor a server event' };
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
    return { kind: 'file', file: fileInfo(m.userFile.payload), ...(m.userFile.thumbnail ? { thumbnail: fileInfo(m.userFile.thumbnail) } : {}) };
  }
  if (m.location !== undefined) return { kind: 'location', latitude: m.location.latitude, longitude: m.location.longitude };
  if (m.suggestionResponse !== undefined) {
    const s = m.suggestionResponse;
    return { kind: 'suggestion', postbackData: s.postbackData, text: s.text, suggestionType: suggestionType(s.type, s.text) };
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
      if (e.messageId === undefined) return invalid('rbm.user_event', [{ field: `${DATA}.messageId`, message: `is required for ${e.eventType} events` }]);
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
  const event: InboundEvent = { ...base, conversationKey: rbmConversationKey(e.agentId, e.senderPhoneNumber), dedupeKey: e.eventId ?? fallbackKey, occurredAt: e.sendTime, ...body };
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
