/**
 * The authorization code of a Business Messages sign-in (authenticationResponse.code) is a
 * credential: whoever holds it (with the PKCE verifier) can sign in as the user. Switchboard uses
 * it once and drops it: the API hands it to the business's sign-in backend (AUTH_CODE_URL), which
 * exchanges it, and the conversation learns only whether that worked (InboundEvent content
 * `codeOutcome`). It is never put into a Temporal payload, so no history, state or query holds it,
 * and it is never logged.
 *
 * The hand-over: `POST AUTH_CODE_URL` with JSON
 * `{ conversationKey, requestId, agent?, code, redirectUri?, receivedAt }`,
 * `Idempotency-Key: <requestId>` (Google's redelivery of the same response repeats it) and
 * `X-Switchboard-Signature: sha256=<hex HMAC-SHA256(AUTH_CODE_SECRET, raw body)>`, as the handoff
 * desk gets it. A 2xx answer, or 409 (it already has that requestId), counts as handed over;
 * anything else, or no answer within the bound, as not handed over (the user is offered to try again).
 */
import { type ConversationKey } from '../domain/conversation-key';
import { HANDOFF_SIGNATURE_HEADER, signHandoffBody, verifyHandoffSignature } from './handoff';

/** The header the hand-over is signed in (the handoff notifications' header). */
export const AUTH_CODE_SIGNATURE_HEADER = HANDOFF_SIGNATURE_HEADER;

/** What AUTH_CODE_URL receives. */
export interface AuthCodeHandOver {
  conversationKey: ConversationKey;
  /** The delivery's requestId (its dedupe key), also the Idempotency-Key. */
  requestId: string;
  /** The Business Messages agent the verified delivery names. */
  agent?: string;
  code: string;
  redirectUri?: string;
  receivedAt: string;
}

/** How one hand-over went; never carries the code. */
export interface AuthCodeHandOverResult {
  handedOver: boolean;
  /** The consumer's HTTP status, when it answered. */
  status?: number;
  /** Why there was no answer (timeout, connection refused). */
  error?: string;
}

/** The API's side of the hand-over. */
export interface AuthCodeConsumer {
  handOver(handOver: AuthCodeHandOver, timeoutMs: number): Promise<AuthCodeHandOverResult>;
}

/** `sha256=<hex HMAC-SHA256(secret, body)>`: how a consumer checks that a hand-over came from Switchboard. */
const signAuthCodeBody = signHandoffBody;
/** Constant-time check of a hand-over's signature header, for consumers written in TypeScript (and tests). */
export const verifyAuthCodeSignature = verifyHandoffSignature;

/** The consumer at `url`, signing with `secret`. */
export function createAuthCodeConsumer(options: { url: string; secret: string }): AuthCodeConsumer {
  return {
    async handOver(handOver, timeoutMs) {
      const body = JSON.stringify(handOver);
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': handOver.requestId,
            [AUTH_CODE_SIGNATURE_HEADER]: signAuthCodeBody(options.secret, body),
          },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        return { handedOver: (res.status >= 200 && res.status < 300) || res.status === 409, status: res.status };
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
        return {
          handedOver: false,
          error: cause instanceof Error ? `${cause.name}: ${cause.message}`.slice(0, 200) : 'no answer',
        };
      }
    },
  };
}
