/**
 * The webhook path shared by POST /webhooks/{rbm,bm} and the operator's replay: size check, JSON,
 * setup handshake, client-token choice, X-Goog-Signature, schema, normalization, the hand-over of a
 * sign-in's authorization code to AUTH_CODE_URL (the code never goes further), and exactly one
 * signalWithStart per conversation; the answer is produced only after Temporal accepted it.
 *
 * Google counts only 200 as delivered: anything else is retried for 7 days and, while one webhook
 * keeps failing, slows delivery to every other agent of the partner account (reference §2.8). So a
 * request whose signature verifies is Google's and ends in 200 once it is durable, whatever it
 * holds. Status contract (every non-200 has a JSON body `{ error: { code, message, ... } }`):
 *
 *   200 signed and durable: its events accepted by the conversations (`accepted`), an agent launch
 *       event acknowledged (`accepted`, no events), or a payload of an unknown kind, one that breaks
 *       its schema, is not JSON, cannot be read or that Temporal refused as too large, kept with its
 *       raw bytes under /v1/unrecognized-payloads (`stored`); also the setup handshake answered
 *   401 no verifiable signature: header missing, not exactly base64 of 64 bytes, not matching, no
 *       client token for the agent, no signed bytes in the body, or a body that could not be read
 *   413 body over WEBHOOK_BODY_LIMIT_BYTES
 *   503 Temporal unreachable, rate limiting (RESOURCE_EXHAUSTED) or slower than
 *       TEMPORAL_SIGNAL_TIMEOUT_MS; carries Retry-After
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { type AuthCodeConsumer } from '../channels/auth-codes';
import { openBmDelivery, withoutAuthCodes } from '../channels/bm/inbound';
import {
  digest,
  type FieldProblem,
  type InboundCredential,
  type InboundInterpretation,
  type InboundReader,
  isObject,
  NOT_JSON,
  parseJsonBytes,
} from '../channels/inbound-payload';
import { openRbmDelivery } from '../channels/rbm/inbound';
import { isSignatureForm, verifySignature } from '../channels/signature';
import { type Config } from '../config';
import { type Channel, type ConversationKey, maskConversationKey } from '../domain/conversation-key';
import { type InboundEvent } from '../domain/inbound';
import { type Logger } from '../logger';
import { ConversationOwnerMismatchError, type ConversationsClient } from '../temporal-client/conversations';
import { type UnrecognizedPayloadStore } from '../temporal-client/unrecognized-payload-store';
import { grpcStatusOf, TemporalUnavailableError } from './errors';

/**
 * How the setup handshake is answered. Google's docs: HTTP 200 with the secret as the plain-text
 * body (`plain`, the default). Google's samples also use `{"secret": "…"}` (Python, `json`),
 * `secret: …` (Node, `prefixed`) and `{"secret": "\"…\""}` (Java kitchen sink, `json-quoted`).
 * `negotiate` answers `json` when the request's Accept header prefers application/json, else `plain`.
 */
export type HandshakeReplyForm = 'plain' | 'json' | 'prefixed' | 'json-quoted';

/** How the processor behaves beyond its dependencies. */
export interface WebhookProcessorOptions {
  /** Default `negotiate`. */
  handshakeReply?: HandshakeReplyForm | 'negotiate';
  /** Replaces a channel's payload reader: only to simulate an older or newer build in tests. */
  readers?: Partial<Record<Channel, InboundReader>>;
  now?: () => Date;
}

/** What the webhook path talks to: configuration (tokens, limits), the conversations, the unrecognized-payload store, logs. */
export interface WebhookProcessorDeps {
  config: Pick<Config, 'webhookTokens' | 'env'>;
  conversations: Pick<ConversationsClient, 'deliver' | 'assertOwner'>;
  unrecognized: Pick<UnrecognizedPayloadStore, 'keep'>;
  /** Where a sign-in's authorization code goes (AUTH_CODE_URL); without one the code is dropped unused. */
  authCodes?: AuthCodeConsumer;
  logger: Logger;
}

/** One webhook request as the processor sees it. */
export interface WebhookInput {
  channel: Channel;
  /** The raw request body, read once. */
  body: Uint8Array;
  signature?: string;
  accept?: string;
  contentType?: string;
  requestId?: string;
  /** `google`: a delivery (unknown kinds are stored); `replay`: an operator re-run of a stored payload (not stored again). */
  source: 'google' | 'replay';
}

/** What to answer: JSON for everything but a plain-text handshake reply. */
export interface WebhookResult {
  status: 200 | 401 | 413 | 503;
  json?: unknown;
  text?: string;
  /** Short outcome for logs, metrics and replay records: `accepted`, `handshake`, `stored`, `still_unrecognized`, or the error code. */
  outcome: string;
  /** Id of the kept payload when it was stored (or, on a replay, is still unrecognized). */
  unrecognizedId?: string;
  /** Seconds for a Retry-After header (503s). */
  retryAfterSeconds?: number;
}

/** Retry-After of every 503: Temporal down or rate limiting; Google's own back-off starts about there. */
export const RETRY_AFTER_SECONDS = 5;

const READERS: Record<Channel, InboundReader> = { rbm: openRbmDelivery, bm: openBmDelivery };

/** Runs one webhook request through verification, normalization and Temporal. Never throws for bad input. */
export class WebhookProcessor {
  private readonly readers: Record<Channel, InboundReader>;
  private readonly now: () => Date;

  constructor(
    private readonly deps: WebhookProcessorDeps,
    private readonly options: WebhookProcessorOptions = {},
  ) {
    this.readers = { ...READERS, ...options.readers };
    this.now = options.now ?? (() => new Date());
  }

  /** The configured body limit in bytes. */
  get bodyLimit(): number {
    return this.deps.config.env.WEBHOOK_BODY_LIMIT_BYTES;
  }

  /**
   * Runs one request. A Temporal outage becomes the 503 `temporal_unavailable`; anything else that
   * kept a signed delivery from becoming durable (Temporal refusing even to keep the payload, say
   * PERMISSION_DENIED on the namespace, or a defect here) the 503 `not_accepted`, logged as an
   * error: Google retries a 503 as it would a 500, and no path of the webhook answers 500.
   */
  async process(input: WebhookInput): Promise<WebhookResult> {
    const started = performance.now();
    const fields: Record<string, unknown> = {};
    let result: WebhookResult;
    try {
      result = await this.run(input, fields);
    } catch (err) {
      if (err instanceof TemporalUnavailableError) {
        result = {
          ...failure(503, 'temporal_unavailable', `${err.message}; retry later`, input.requestId),
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        };
      } else {
        fields.error = errorName(err);
        fields.cause = errorMessage(err);
        result = {
          ...failure(
            503,
            'not_accepted',
            'the delivery could not be made durable (the cause is logged for the operator); retry later',
            input.requestId,
          ),
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        };
      }
    }
    this.logResult(input, result, started, input.body.byteLength, fields);
    return result;
  }

  /** The 413 for a body the route stopped reading at the limit (`seenBytes` is how far it got). */
  bodyTooLarge(input: Omit<WebhookInput, 'body'>, seenBytes: number): WebhookResult {
    const result = failure(
      413,
      'payload_too_large',
      `body exceeds the limit of ${this.bodyLimit} bytes`,
      input.requestId,
    );
    this.logResult(input, result, performance.now(), seenBytes, {});
    return result;
  }

  /** One line per request: request id, outcome, timing, masked conversation keys; never a phone number or message text. */
  private logResult(
    input: Omit<WebhookInput, 'body'>,
    result: WebhookResult,
    started: number,
    bytes: number,
    fields: Record<string, unknown>,
  ): void {
    const log = this.deps.logger.child({ requestId: input.requestId, channel: input.channel, source: input.source });
    const line = {
      status: result.status,
      outcome: result.outcome,
      ms: Math.round((performance.now() - started) * 10) / 10,
      bytes,
      ...fields,
    };
    if (result.status === 503) log.error('webhook not accepted', line);
    else if (result.outcome === 'stored') log.warn('webhook payload kept for an operator', line);
    else if (result.status === 401) log.warn('webhook rejected', line);
    else log.info(result.status === 200 ? 'webhook accepted' : 'webhook rejected', line);
  }

  private async run(input: WebhookInput, fields: Record<string, unknown>): Promise<WebhookResult> {
    const { channel, body, requestId } = input;
    if (body.byteLength > this.bodyLimit)
      return failure(
        413,
        'payload_too_large',
        `body is ${body.byteLength} bytes; the limit is ${this.bodyLimit}`,
        requestId,
      );

    const json = parseJsonBytes(body);
    if (json !== NOT_JSON && isHandshake(channel, json)) return this.handshake(channel, json, input);

    const opened = this.readers[channel](json, body);
    if (!opened.ok) {
      const first = opened.problems[0] ?? { field: '(body)', message: 'is invalid' };
      return failure(
        401,
        'unverifiable',
        `${first.field}: ${first.message}, so there is nothing X-Goog-Signature could sign`,
        requestId,
        { field: first.field },
      );
    }
    const { payload } = opened;

    const token = this.tokenFor(channel, payload.agentHint);
    if (token === undefined) {
      fields.agent = payload.agentHint?.slice(0, 100);
      return failure(
        401,
        'no_client_token',
        `no client token is configured for this ${channel === 'rbm' ? 'RBM' : 'Business Messages'} agent, so X-Goog-Signature cannot be verified`,
        requestId,
      );
    }
    if (input.signature === undefined || input.signature === '')
      return failure(401, 'missing_signature', 'X-Goog-Signature header is missing', requestId);
    if (!isSignatureForm(input.signature)) {
      return failure(
        401,
        'malformed_signature',
        'X-Goog-Signature must be sent once, as the standard base64 (with padding) of the 64-byte HMAC-SHA512: 88 characters ending in ==',
        requestId,
      );
    }
    if (!verifySignature(token, payload.signedBytes, input.signature)) {
      return failure(
        401,
        'invalid_signature',
        `X-Goog-Signature does not match ${channel === 'rbm' ? 'the decoded message.data' : 'the request body'}`,
        requestId,
      );
    }

    // Signed: the request is Google's. From here every path ends in 200 once durable, or 503.
    const receivedAt = this.now().toISOString();
    let interpretation: InboundInterpretation;
    try {
      interpretation = payload.interpret(receivedAt);
    } catch (err) {
      // A pathological payload (nesting deep enough to overflow the stack, say) is kept, not answered 500.
      interpretation = {
        outcome: 'unrecognized',
        kind: `${channel}.unreadable`,
        reason: `the payload could not be read (${errorName(err)})`,
      };
    }
    fields.kind = interpretation.kind;
    switch (interpretation.outcome) {
      case 'invalid':
        fields.fields = interpretation.problems.map((p) => p.field);
        return this.park(
          input,
          payload.signedBytes,
          receivedAt,
          interpretation.kind,
          `schema violation: ${describeProblems(interpretation.problems)}`,
        );
      case 'unrecognized':
        return this.park(input, payload.signedBytes, receivedAt, interpretation.kind, interpretation.reason);
      case 'notice':
        Object.assign(fields, interpretation.fields);
        return {
          status: 200,
          outcome: 'accepted',
          json: { status: 'accepted', kind: interpretation.kind, events: 0, ...(requestId ? { requestId } : {}) },
        };
      case 'events':
        try {
          const owner = channel === 'bm' ? this.ownerOf(payload.agentHint) : undefined;
          const events = interpretation.credentials
            ? await this.handOver(interpretation.events, interpretation.credentials, owner, fields, receivedAt)
            : interpretation.events;
          return await this.deliver(events, fields, requestId, owner);
        } catch (err) {
          if (err instanceof TemporalUnavailableError) throw err;
          if (err instanceof ConversationOwnerMismatchError) {
            fields.refused = 'owner_mismatch';
            return this.park(
              input,
              payload.signedBytes,
              receivedAt,
              interpretation.kind,
              `${maskConversationKey(err.key)} belongs to another Business Messages agent than the one whose client token signed this delivery`,
            );
          }
          // Temporal refused the signal itself (too large, or a payload it cannot take): keep the raw bytes instead.
          fields.refused = errorName(err);
          return this.park(
            input,
            payload.signedBytes,
            receivedAt,
            interpretation.kind,
            `Temporal refused the events: ${errorMessage(err)}`,
          );
        }
    }
  }

  /**
   * Hands each sign-in's authorization code to AUTH_CODE_URL, and returns the events with what
   * became of it (codeOutcome); the code itself stays out of the events, so out of Temporal. A
   * Business Messages conversation bound to another agent is refused before its code goes anywhere.
   */
  private async handOver(
    events: InboundEvent[],
    credentials: InboundCredential[],
    owner: string | undefined,
    fields: Record<string, unknown>,
    receivedAt: string,
  ): Promise<InboundEvent[]> {
    if (owner !== undefined) {
      for (const key of new Set(credentials.map((c) => c.conversationKey)))
        await this.withinBound('the owner check', this.deps.conversations.assertOwner(key, owner));
    }
    const consumer = this.deps.authCodes;
    if (!consumer) {
      fields.authCode = 'dropped';
      return events;
    }
    const outcomes = new Map<string, 'handed_over' | 'not_handed_over'>();
    for (const credential of credentials) {
      const { dedupeKey, conversationKey, agent, code, redirectUri } = credential;
      const result = await consumer.handOver(
        {
          conversationKey,
          requestId: dedupeKey,
          code,
          receivedAt,
          ...(agent !== undefined ? { agent } : {}),
          ...(redirectUri !== undefined ? { redirectUri } : {}),
        },
        this.deps.config.env.TEMPORAL_SIGNAL_TIMEOUT_MS,
      );
      outcomes.set(dedupeKey, result.handedOver ? 'handed_over' : 'not_handed_over');
      fields.authCode = result.handedOver ? 'handed_over' : 'not_handed_over';
      if (result.status !== undefined) fields.authCodeStatus = result.status;
      if (result.error !== undefined) fields.authCodeError = result.error;
    }
    return events.map((event) => {
      const outcome = outcomes.get(event.dedupeKey);
      return outcome && event.type === 'message' && event.content.kind === 'auth'
        ? { ...event, content: { ...event.content, codeOutcome: outcome } }
        : event;
    });
  }

  /**
   * Keeps a signed payload the conversations did not take (unknown kind, schema violation, not
   * JSON, unreadable, refused by Temporal) with its raw bytes; 200 once Temporal holds it. A
   * redelivery lands on the same entry (the id is a digest of the signed bytes alone). A sign-in's
   * authorization code is removed first: it never reaches Temporal, kept or delivered.
   */
  private async park(
    input: WebhookInput,
    signedBytes: Uint8Array,
    receivedAt: string,
    kind: string,
    reason: string,
  ): Promise<WebhookResult> {
    const { channel, requestId } = input;
    const id = digest(Buffer.concat([Buffer.from(`${channel}\n`), signedBytes]));
    const boundedReason = reason.length > 500 ? `${reason.slice(0, 497)}...` : reason;
    if (input.source === 'google') {
      const headers: Record<string, string> = { 'x-goog-signature': input.signature ?? '' };
      if (input.contentType) headers['content-type'] = input.contentType.slice(0, 200);
      const redacted = channel === 'bm' ? withoutAuthCodes(input.body) : undefined;
      await this.withinBound(
        'the payload',
        this.deps.unrecognized.keep(
          {
            id,
            channel,
            kind,
            reason: boundedReason,
            receivedAt,
            bodyBase64: Buffer.from(redacted ?? input.body).toString('base64'),
            headers,
            ...(redacted ? { credentialsRemoved: true as const } : {}),
            ...(requestId ? { requestId } : {}),
          },
          { at: receivedAt, ...(requestId ? { requestId } : {}) },
        ),
      );
    }
    // A replay of a kept payload that is still not accepted leaves the entry as it is.
    const status = input.source === 'google' ? 'stored' : 'still_unrecognized';
    return {
      status: 200,
      outcome: status,
      unrecognizedId: id,
      json: { status, id, kind, reason: boundedReason, ...(requestId ? { requestId } : {}) },
    };
  }

  /**
   * Who signed a Business Messages delivery: the agent, when it has a client token of its own (so
   * only that agent could have signed it), else everyone holding the channel's default token.
   */
  private ownerOf(agent: string | undefined): string {
    return agent !== undefined && Object.hasOwn(this.deps.config.webhookTokens.bm.byAgent, agent)
      ? `agent:${agent}`
      : 'default-token';
  }

  /** One signalWithStart per conversation with all of its events; resolves only when every one was accepted. */
  private async deliver(
    events: InboundEvent[],
    fields: Record<string, unknown>,
    requestId: string | undefined,
    owner: string | undefined,
  ): Promise<WebhookResult> {
    const byConversation = new Map<ConversationKey, InboundEvent[]>();
    for (const event of events) {
      const list = byConversation.get(event.conversationKey);
      if (list) list.push(event);
      else byConversation.set(event.conversationKey, [event]);
    }
    fields.conversations = [...byConversation.keys()].map(maskConversationKey);
    fields.events = events.length;
    await this.withinBound(
      'the events',
      Promise.all(
        [...byConversation].map(([key, batch]) =>
          this.deps.conversations.deliver(key, batch, owner !== undefined ? { owner } : {}),
        ),
      ),
    );
    return {
      status: 200,
      outcome: 'accepted',
      json: { status: 'accepted', events: events.length, ...(requestId ? { requestId } : {}) },
    };
  }

  /**
   * The 503 bound as a hard guarantee: the Temporal client's own deadline can overrun it (the first
   * connection attempt of a lazy client, retry back-off), and Google must get an answer in time.
   * Work still in flight may land later; Google's retry of the delivery is then deduped.
   */
  private async withinBound<T>(what: string, work: Promise<T>): Promise<T> {
    const ms = this.deps.config.env.TEMPORAL_SIGNAL_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TemporalUnavailableError(`Temporal did not accept ${what} within ${ms} ms`)),
        ms,
      );
    });
    // A late failure of work that already lost the race must not surface as an unhandled rejection.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private handshake(
    channel: Channel,
    body: { clientToken: string; secret: string },
    input: WebhookInput,
  ): WebhookResult {
    const tokens = this.tokensOf(channel);
    if (tokens.length === 0)
      return failure(401, 'no_client_token', 'no client token is configured for this channel', input.requestId);
    // Every candidate is compared (constant time each), so timing does not tell which one matched.
    let matched = false;
    for (const token of tokens) matched = sameSecret(token, body.clientToken) || matched;
    if (!matched)
      return failure(
        401,
        'invalid_client_token',
        'clientToken does not match a configured client token',
        input.requestId,
      );

    const form = this.options.handshakeReply ?? 'negotiate';
    const chosen: HandshakeReplyForm = form === 'negotiate' ? (prefersJson(input.accept) ? 'json' : 'plain') : form;
    const secret = body.secret;
    switch (chosen) {
      case 'plain':
        return { status: 200, outcome: 'handshake', text: secret };
      case 'prefixed':
        return { status: 200, outcome: 'handshake', text: `secret: ${secret}` };
      case 'json':
        return { status: 200, outcome: 'handshake', json: { secret } };
      case 'json-quoted':
        return { status: 200, outcome: 'handshake', json: { secret: JSON.stringify(secret) } };
    }
  }

  /** Per-agent token when the agent has one, else the channel's default. */
  private tokenFor(channel: Channel, agent: string | undefined): string | undefined {
    const tokens = this.deps.config.webhookTokens[channel];
    // Object.hasOwn: an agent named "constructor" must not find Object.prototype's function.
    if (agent !== undefined && Object.hasOwn(tokens.byAgent, agent)) return tokens.byAgent[agent];
    return tokens.default;
  }

  private tokensOf(channel: Channel): string[] {
    const tokens = this.deps.config.webhookTokens[channel];
    return [...(tokens.default !== undefined ? [tokens.default] : []), ...Object.values(tokens.byAgent)];
  }
}

/** `{clientToken, secret}` and nothing that makes it a delivery. */
function isHandshake(channel: Channel, json: unknown): json is { clientToken: string; secret: string } {
  if (!isObject(json) || typeof json.clientToken !== 'string' || typeof json.secret !== 'string') return false;
  return channel === 'rbm' ? json.message === undefined : json.conversationId === undefined;
}

function sameSecret(a: string, b: string): boolean {
  // Digests have equal length whatever the inputs, as timingSafeEqual requires.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  let json = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (Number.isNaN(q)) continue;
    if (type === 'application/json') json = Math.max(json, q);
    if (type === 'text/plain') text = Math.max(text, q);
  }
  return json > 0 && json > text;
}

function failure(
  status: WebhookResult['status'],
  code: string,
  message: string,
  requestId: string | undefined,
  extra: Record<string, unknown> = {},
): WebhookResult {
  return { status, outcome: code, json: { error: { code, message, ...extra, ...(requestId ? { requestId } : {}) } } };
}

/** `field: message; field: message` of the first three problems. */
function describeProblems(problems: FieldProblem[]): string {
  if (problems.length === 0) return '(body) is invalid';
  return problems
    .slice(0, 3)
    .map((p) => `${p.field}: ${p.message}`)
    .join('; ');
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // The SDK's ServiceError says only which call failed; the gRPC status in its cause says why.
  const status = grpcStatusOf(err);
  return (status && status !== message ? `${message} (${status})` : message).slice(0, 300);
}
