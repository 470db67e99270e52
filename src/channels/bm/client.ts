/**
 * Business Messages REST client (conversations.messages.create, messages.updateReceipt,
 * conversations.events.create). Google retired the service in July 2024; the client stays for
 * look-alike platforms, replays and tests. IDs are always passed in, and an id the platform has
 * already seen (409 ALREADY_EXISTS) means an earlier attempt went through: success.
 */
import { FailureType } from '../../domain/errors';
import { type CallDescription, failureForStatus, type StatusMeaning } from '../failures';
import { googleCall, JSON_HEADERS } from '../google-api';
import { type AccessTokenSource } from '../google-auth';
import { apiUrl, type HttpResponse, jsonBody } from '../http';
import { type BmMessage, type BmRepresentative } from './content';

/** Google's Business Messages host (retired; kept as the default so config mirrors RBM's). */
export const BM_DEFAULT_BASE_URL = 'https://businessmessages.googleapis.com';

export interface BmClientOptions {
  /** Without the `/v1` suffix. */
  baseUrl: string;
  tokens: AccessTokenSource;
  timeoutMs: number;
}

export type BmEventType = 'TYPING_STARTED' | 'TYPING_STOPPED' | 'REPRESENTATIVE_JOINED' | 'REPRESENTATIVE_LEFT';

/** 403 PERMISSION_DENIED / 404: the conversation does not exist or the agent may not post in it. */
const CONVERSATION: StatusMeaning = {
  notFound: FailureType.ConversationNotFound,
  forbidden: FailureType.ConversationNotFound,
};

export class BmClient {
  constructor(private readonly options: BmClientOptions) {}

  /** `conversations.messages.create`. */
  async createMessage(
    conversationId: string,
    message: BmMessage,
  ): Promise<{ createTime?: string; duplicate: boolean }> {
    const call = { operation: 'BM messages.create', subject: conversationId };
    const res = await this.send(
      call,
      'POST',
      `/v1/conversations/${encodeURIComponent(conversationId)}/messages`,
      {},
      message,
    );
    if (res.status === 409) return { duplicate: true };
    if (res.status !== 200) throw this.fail(res, call);
    const body = jsonBody<{ createTime?: string }>(res);
    return { ...(body?.createTime ? { createTime: body.createTime } : {}), duplicate: false };
  }

  /** `conversations.messages.updateReceipt` with READ: the agent read the user's message. Idempotent by nature. */
  async markRead(conversationId: string, messageId: string): Promise<void> {
    const call = { operation: 'BM messages.updateReceipt', subject: conversationId };
    const path = `/v1/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/receipt`;
    const res = await this.send(call, 'PATCH', path, {}, { receiptType: 'READ' });
    if (res.status !== 200) throw this.fail(res, call);
  }

  /** `conversations.events.create` with the eventId query parameter. */
  async createEvent(
    conversationId: string,
    eventId: string,
    eventType: BmEventType,
    representative: BmRepresentative,
  ): Promise<void> {
    const call = { operation: `BM events.create ${eventType}`, subject: conversationId };
    const res = await this.send(
      call,
      'POST',
      `/v1/conversations/${encodeURIComponent(conversationId)}/events`,
      { eventId },
      { eventType, representative },
    );
    if (res.status === 200 || res.status === 409) return;
    throw this.fail(res, call);
  }

  private send(
    call: CallDescription,
    method: 'POST' | 'PATCH',
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): Promise<HttpResponse> {
    const url = apiUrl(this.options.baseUrl, path, query);
    return googleCall(this.options.tokens, { method, url, headers: JSON_HEADERS, body: JSON.stringify(body) }, call, {
      timeoutMs: this.options.timeoutMs,
    });
  }

  private fail(res: HttpResponse, call: CallDescription) {
    return failureForStatus(res.status, call, CONVERSATION, {
      retryAfter: res.headers.get('retry-after'),
      bodyText: res.text,
    });
  }
}
