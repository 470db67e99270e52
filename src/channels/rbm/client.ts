/**
 * RCS Business Messaging REST client (phones.agentMessages, phones.agentEvents,
 * phones.getCapabilities). IDs are always passed in: a retried activity repeats the very same
 * call, and RBM ignores an id it has seen (messages and events share one id space per agent).
 */
import { maskPhone } from '../../domain/conversation-key';
import { FailureType } from '../../domain/errors';
import { type RevokeOutcome } from '../../domain/ports';
import { type CallDescription, failureForStatus, permanentFailure, type StatusMeaning } from '../failures';
import { googleCall, JSON_HEADERS } from '../google-api';
import { type AccessTokenSource } from '../google-auth';
import { apiUrl, type HttpResponse, jsonBody } from '../http';
import { type RbmAgentMessage } from './content';

export type RbmRegion = 'global' | 'us' | 'europe' | 'asia';

/** Google's RBM host for a region (the region the agent was created in; Google recommends the nearest). */
export function rbmBaseUrl(region: RbmRegion): string {
  return region === 'global'
    ? 'https://rcsbusinessmessaging.googleapis.com'
    : `https://${region}-rcsbusinessmessaging.googleapis.com`;
}

export interface RbmClientOptions {
  /** Without the `/v1` suffix, e.g. https://europe-rcsbusinessmessaging.googleapis.com or the simulator. */
  baseUrl: string;
  tokens: AccessTokenSource;
  timeoutMs: number;
}

interface PhoneTarget {
  agentId: string;
  /** E.164, kept with its `+` in the path as Google's examples do. */
  msisdn: string;
}

/** RBM agent events Switchboard sends: READ for a user's message, IS_TYPING (ephemeral). */
export type RbmAgentEvent = { eventType: 'READ'; messageId: string } | { eventType: 'IS_TYPING' };

const E164 = /^\+[1-9]\d{6,14}$/;

/** send / events / capabilities: 404 (and the older 403) mean "this user cannot be reached over RCS". */
const REACHABILITY: StatusMeaning = { notFound: FailureType.NotRcsReachable, forbidden: FailureType.NotRcsReachable };

export class RbmClient {
  constructor(private readonly options: RbmClientOptions) {}

  /** `phones.agentMessages.create`. A duplicate id (ignored by RBM, or 409) counts as sent. */
  async createAgentMessage(
    target: PhoneTarget & { messageId: string; message: RbmAgentMessage },
  ): Promise<{ sendTime?: string; duplicate: boolean }> {
    const call = this.describe('RBM agentMessages.create', target);
    const res = await this.send(
      call,
      'POST',
      `/v1/phones/${target.msisdn}/agentMessages`,
      { messageId: target.messageId, agentId: target.agentId },
      target.message,
    );
    if (res.status === 409) return { duplicate: true };
    if (res.status !== 200) throw this.fail(res, call, REACHABILITY);
    const body = jsonBody<{ sendTime?: string }>(res);
    return { ...(body?.sendTime ? { sendTime: body.sendTime } : {}), duplicate: false };
  }

  /** `phones.agentMessages.delete`: 200 = revoked before delivery; 404 = too late (delivered or gone). */
  async revokeAgentMessage(target: PhoneTarget & { messageId: string }): Promise<RevokeOutcome> {
    const call = this.describe('RBM agentMessages.delete', target);
    const res = await this.send(
      call,
      'DELETE',
      `/v1/phones/${target.msisdn}/agentMessages/${encodeURIComponent(target.messageId)}`,
      { agentId: target.agentId },
    );
    if (res.status === 200) return 'revoked';
    if (res.status === 404) return 'not_revoked';
    throw this.fail(res, call);
  }

  /** `phones.agentEvents.create` with the eventId query parameter. A duplicate id counts as sent. */
  async createAgentEvent(target: PhoneTarget & { eventId: string; event: RbmAgentEvent }): Promise<void> {
    const call = this.describe(`RBM agentEvents.create ${target.event.eventType}`, target);
    const res = await this.send(
      call,
      'POST',
      `/v1/phones/${target.msisdn}/agentEvents`,
      { eventId: target.eventId, agentId: target.agentId },
      target.event,
    );
    if (res.status === 200 || res.status === 409) return;
    throw this.fail(res, call, REACHABILITY);
  }

  /** `phones.getCapabilities`: the features the user's device supports; NotRcsReachable on 404. */
  async getCapabilities(target: PhoneTarget & { requestId: string }): Promise<{ features: string[] }> {
    const call = this.describe('RBM getCapabilities', target);
    const res = await this.send(call, 'GET', `/v1/phones/${target.msisdn}/capabilities`, {
      requestId: target.requestId,
      agentId: target.agentId,
    });
    if (res.status !== 200) throw this.fail(res, call, REACHABILITY);
    const body = jsonBody<{ features?: unknown }>(res);
    return {
      features: Array.isArray(body?.features) ? body.features.filter((f): f is string => typeof f === 'string') : [],
    };
  }

  /** Also guards the path: only an E.164 number goes into `phones/{msisdn}`. */
  private describe(operation: string, target: PhoneTarget): CallDescription {
    if (!E164.test(target.msisdn))
      throw permanentFailure(`${operation}: the phone number is not E.164`, FailureType.InvalidRequest);
    return { operation, subject: maskPhone(target.msisdn) };
  }

  private send(
    call: CallDescription,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    query: Record<string, string>,
    body?: unknown,
  ): Promise<HttpResponse> {
    const url = apiUrl(this.options.baseUrl, path, query);
    return googleCall(
      this.options.tokens,
      { method, url, ...(body !== undefined ? { headers: JSON_HEADERS, body: JSON.stringify(body) } : {}) },
      call,
      { timeoutMs: this.options.timeoutMs },
    );
  }

  private fail(res: HttpResponse, call: CallDescription, meaning?: StatusMeaning) {
    return failureForStatus(res.status, call, meaning, {
      retryAfter: res.headers.get('retry-after'),
      bodyText: res.text,
    });
  }
}
