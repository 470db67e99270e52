import { type Channel, type ConversationKey } from './conversation-key';

/** Where and how the user reached the agent (Business Messages `context`; RBM has none). */
export interface InboundContext {
  resolvedLocale?: string;
  userDeviceLocale?: string;
  displayName?: string;
  placeId?: string;
  nearPlaceId?: string;
  entryPoint?: string;
  customContext?: string;
  widget?: { url?: string; widgetContext?: string };
  /** The business phone number the user chose not to call when the conversation started (Business Messages; unverified field). */
  deflectedPhoneNumber?: string;
}

export interface FileInfo {
  mimeType?: string;
  fileSizeBytes?: number;
  fileName?: string;
  fileUri?: string;
}

/**
 * What became of the authorization code of a Business Messages sign-in. The code itself never
 * reaches Temporal: the API hands it to AUTH_CODE_URL and drops it (src/channels/auth-codes.ts).
 * `handed_over`: the consumer took it; `not_handed_over`: the consumer refused it or did not
 * answer in time; `dropped`: no consumer is configured; `none`: the response held no code (an error).
 */
export type AuthCodeOutcome = 'handed_over' | 'not_handed_over' | 'dropped' | 'none';

/** What the user sent, channel-neutral. */
export type MessageContent =
  | { kind: 'text'; text: string }
  | { kind: 'image'; url: string }
  | { kind: 'file'; file: FileInfo; thumbnail?: FileInfo }
  | { kind: 'location'; latitude: number; longitude: number }
  | {
      kind: 'suggestion';
      postbackData: string;
      text?: string;
      suggestionType: 'REPLY' | 'ACTION' | 'UNKNOWN';
      inReplyTo?: string;
    }
  | {
      kind: 'auth';
      codeOutcome: AuthCodeOutcome;
      redirectUri?: string;
      error?: { error?: string; errorDescription?: string };
    };

/**
 * The sign-in content of events delivered before the code was dropped at the API: the code rode
 * in the signal. Only histories recorded then (and runs started then) hold it; workflow code reads
 * it through withoutCredentials, which keeps what the code meant and drops the code.
 */
export interface LegacyAuthContent {
  kind: 'auth';
  code?: string;
  codeOutcome?: AuthCodeOutcome;
  redirectUri?: string;
  error?: { error?: string; errorDescription?: string };
}

/**
 * The event without any credential a user sent: an auth content that still carries a code (a
 * signal from an API older than the drop, or such a run's carried state) becomes the outcome the
 * code stood for then (`dropped` when non-empty: nothing consumed it; `none` otherwise), so routing
 * decides exactly as it did with the code. Everything else is returned as it is.
 */
export function withoutCredentials<E extends InboundEvent>(event: E): E {
  if (event.type !== 'message') return event;
  const content = event.content as LegacyAuthContent | MessageContent;
  if (content.kind !== 'auth' || !('code' in content)) return event;
  const { code: _code, ...rest } = content;
  return { ...event, content: { ...rest, codeOutcome: authCodeOutcomeOf(content) } };
}

/** The outcome an auth content stands for, also when it is one of the older ones that carried the code. */
export function authCodeOutcomeOf(content: LegacyAuthContent): AuthCodeOutcome {
  return content.codeOutcome ?? (content.code !== undefined && content.code !== '' ? 'dropped' : 'none');
}

export type MessageKind = MessageContent['kind'];

/** Business Messages' Dialogflow / FAQ result that may ride along with a user message. */
export interface DialogflowInfo {
  autoResponded: boolean;
  queryText?: string;
  faqAnswers: { question?: string; answer?: string; confidence?: number; confidenceLevel?: string }[];
  intents: { displayName?: string; confidence?: number }[];
}

interface InboundEventBase {
  /** Stable across Google's redeliveries: requestId (BM), messageId (RBM messages), eventId (RBM events). */
  dedupeKey: string;
  channel: Channel;
  conversationKey: ConversationKey;
  /** When the user or platform produced it (sendTime / createTime), if the payload says. */
  occurredAt?: string;
  /** When the webhook received it (ISO 8601). */
  receivedAt: string;
  /** The version of the routing file the API had when it delivered the event: a new file reaches running conversations this way. */
  routingVersion?: string;
}

/**
 * RBM: where the sender's number is from, resolved by the API (src/routing/phone-country.ts) so
 * workflows need no phone-number metadata.
 */
export interface SenderCountry {
  /** E.g. `+44`. */
  callingCode: string;
  /** ISO 3166 alpha-2, when the number's range identifies one country. */
  country?: string;
  /** When it does not (a shared calling code): the countries it may belong to, in metadata order. */
  possibleCountries?: string[];
}

export type InboundEventBody =
  | {
      type: 'message';
      messageId: string;
      content: MessageContent;
      context?: InboundContext;
      dialogflow?: DialogflowInfo;
      senderCountry?: SenderCountry;
    }
  /** A user's receipt for one of OUR outbound messages (messageId is the id we sent it with). */
  | { type: 'receipt'; messageId: string; receipt: 'DELIVERED' | 'READ' }
  | { type: 'typing'; isTyping: boolean }
  | { type: 'live_agent_requested' }
  | { type: 'subscription'; subscribed: boolean }
  /** RBM server event: our message hit its TTL; `revoked` tells TTL_EXPIRATION_REVOKED from _REVOKE_FAILED. */
  | { type: 'ttl_expired'; messageId: string; revoked: boolean }
  | {
      type: 'survey_response';
      surveyId?: string;
      rating?: string;
      questionId?: string;
      response?: string;
      questionIndex?: number;
      totalQuestionCount?: number;
      /** Postback data of the tapped answer, when the question offered suggestions. */
      postbackData?: string;
      questionType?: string;
    };

/** One thing Google told us about a conversation, normalized from either channel's payload. */
export type InboundEvent = InboundEventBase & InboundEventBody;

export type InboundEventType = InboundEvent['type'];
