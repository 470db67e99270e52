/**
 * The JSON Google posts to a webhook, built the way the reference describes it
 * (../shared/reference/google-messaging-api.md §1, §2): RBM UserMessage / UserEvent / ServerEvent
 * (the decoded `message.data`), Business Messages UserMessage bodies.
 */

/** What a simulated user can send. Business Messages has no files or locations (images are URLs in text). */
export type UserContent =
  | { kind: 'text'; text: string }
  | { kind: 'image'; url: string; mimeType?: string; fileName?: string; sizeBytes?: number }
  | { kind: 'file'; url: string; mimeType?: string; fileName?: string; sizeBytes?: number }
  | { kind: 'location'; latitude: number; longitude: number }
  | { kind: 'suggestion'; postbackData: string; text?: string; type: 'REPLY' | 'ACTION' };

const now = () => new Date().toISOString();

export function rbmUserMessage(
  agentId: string,
  msisdn: string,
  messageId: string,
  content: UserContent,
): Record<string, unknown> {
  const base = { senderPhoneNumber: msisdn, messageId, sendTime: now(), agentId };
  switch (content.kind) {
    case 'text':
      return { ...base, text: content.text };
    case 'image':
    case 'file': {
      const fileName = content.fileName ?? content.url.split('/').pop() ?? 'file';
      const mimeType = content.mimeType ?? (content.kind === 'image' ? 'image/jpeg' : 'application/octet-stream');
      return {
        ...base,
        userFile: { payload: { mimeType, fileSizeBytes: content.sizeBytes ?? 1024, fileName, fileUri: content.url } },
      };
    }
    case 'location':
      return { ...base, location: { latitude: content.latitude, longitude: content.longitude } };
    case 'suggestion':
      return {
        ...base,
        suggestionResponse: {
          postbackData: content.postbackData,
          text: content.text ?? content.postbackData,
          type: content.type,
        },
      };
  }
}

/** A user event: DELIVERED / READ (messageId = the agent's message), IS_TYPING, SUBSCRIBE, UNSUBSCRIBE. */
export function rbmUserEvent(
  agentId: string,
  msisdn: string,
  eventType: string,
  eventId: string,
  messageId?: string,
): Record<string, unknown> {
  return {
    senderPhoneNumber: msisdn,
    eventType,
    eventId,
    ...(messageId ? { messageId } : {}),
    sendTime: now(),
    agentId,
  };
}

/** A server event: TTL_EXPIRATION_REVOKED / TTL_EXPIRATION_REVOKE_FAILED. Note `phoneNumber`, not `senderPhoneNumber`. */
export function rbmServerEvent(
  agentId: string,
  msisdn: string,
  eventType: string,
  eventId: string,
  messageId: string,
): Record<string, unknown> {
  return { phoneNumber: msisdn, agentId, messageId, eventType, eventId, sendTime: now() };
}

/** Where a Business Messages user came from (`context`), with simulator defaults. */
export interface BmContextInput {
  locale?: string;
  displayName?: string;
  placeId?: string;
  nearPlaceId?: string;
  entryPoint?: string;
  customContext?: string;
}

function bmContext(input: BmContextInput = {}): Record<string, unknown> {
  const locale = input.locale ?? 'en';
  return {
    entryPoint: input.entryPoint ?? 'PLACESHEET',
    userInfo: { displayName: input.displayName ?? 'Sim User', userDeviceLocale: locale },
    resolvedLocale: locale.split('-')[0],
    ...(input.placeId ? { placeId: input.placeId } : {}),
    ...(input.nearPlaceId ? { nearPlaceId: input.nearPlaceId } : {}),
    ...(input.customContext ? { customContext: input.customContext } : {}),
  };
}

export interface BmEnvelope {
  agent: string;
  conversationId: string;
  requestId: string;
  context?: BmContextInput;
}

function bmBase(env: BmEnvelope): Record<string, unknown> {
  return {
    agent: env.agent,
    conversationId: env.conversationId,
    customAgentId: 'switchboard-sim',
    requestId: env.requestId,
    context: bmContext(env.context),
    sendTime: now(),
  };
}

export function bmUserMessage(env: BmEnvelope, messageId: string, content: UserContent): Record<string, unknown> {
  const name = `conversations/${env.conversationId}/messages/${messageId}`;
  switch (content.kind) {
    case 'text':
      return { ...bmBase(env), message: { messageId, name, text: content.text, createTime: now() } };
    case 'image':
    case 'file':
      // Business Messages delivers a user's image as a text message holding a signed URL.
      return { ...bmBase(env), message: { messageId, name, text: content.url, createTime: now() } };
    case 'suggestion':
      return {
        ...bmBase(env),
        suggestionResponse: {
          message: name,
          postbackData: content.postbackData,
          text: content.text ?? content.postbackData,
          createTime: now(),
          type: content.type,
        },
      };
    case 'location':
      throw new Error('Business Messages users cannot send a location');
  }
}

export function bmReceipts(
  env: BmEnvelope,
  receipts: { messageId: string; receiptType: 'DELIVERED' | 'READ' }[],
): Record<string, unknown> {
  return {
    ...bmBase(env),
    receipts: {
      receipts: receipts.map((r) => ({
        message: `conversations/${env.conversationId}/messages/${r.messageId}`,
        receiptType: r.receiptType,
      })),
      createTime: now(),
    },
  };
}

export function bmUserStatus(
  env: BmEnvelope,
  status: { isTyping: boolean } | { requestedLiveAgent: true },
): Record<string, unknown> {
  return { ...bmBase(env), userStatus: { createTime: now(), ...status } };
}

/** The result of an OAuth sign-in suggestion: an authorization code, or Google's error. */
export interface BmAuthResult {
  code?: string;
  redirectUri?: string;
  error?: string;
  errorDescription?: string;
}

export function bmAuthenticationResponse(env: BmEnvelope, result: BmAuthResult): Record<string, unknown> {
  const errorDetails =
    result.error !== undefined
      ? {
          error: result.error,
          ...(result.errorDescription !== undefined ? { errorDescription: result.errorDescription } : {}),
        }
      : undefined;
  return {
    ...bmBase(env),
    authenticationResponse: {
      ...(result.code !== undefined ? { code: result.code } : {}),
      redirectUri: result.redirectUri ?? 'https://business.google.com/callback',
      ...(errorDetails ? { errorDetails } : {}),
    },
  };
}
