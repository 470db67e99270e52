/** What every simulator route shares: one instance per simulator, no module singletons. */
import { type Logger } from '../../src/logger';
import { type CallApi, type CallLog } from './calls';
import { type FaultInjector } from './faults';
import { type SimServiceAccount, type TokenStore } from './oauth';
import { type Phones } from './phones';
import { type SeededRandom } from './rng';
import { type SmsStore } from './sms-store';
import { type Timers } from './timers';
import { type PlatformWebhooks } from './webhooks';

export interface SimulatorState {
  calls: CallLog;
  faults: FaultInjector;
  phones: Phones;
  /** RBM agent event ids (per agent, one id space with message ids) and BM event ids (per conversation). */
  eventIds: Set<string>;
  /** Handoff ids the stand-in desk has received. */
  handoffIds: Set<string>;
  /** Authorization codes the stand-in sign-in backend (/desk/auth-codes) has received, by requestId. */
  authCodes: Map<string, SimAuthCode>;
  sms: SmsStore;
  webhooks: PlatformWebhooks;
  tokens: TokenStore;
  random: SeededRandom;
  timers: Timers;
  logger: Logger;
  /** The generated (or loaded) service account whose public key checks JWT assertions. */
  account: SimServiceAccount;
  /** The simulator's own base URL (token_uri is `${publicUrl}/token`). */
  publicUrl: () => string;
  settings: {
    tokenLifetimeS: number;
    /** Check bearer tokens on RBM / BM calls (on by default: the real flow). */
    requireAuth: boolean;
    /** Twilio account the simulator accepts; any SID/token pair when unset. */
    twilio?: { accountSid: string; authToken: string };
    /** Dedupe Twilio sends on X-Switchboard-Idempotency-Key (real Twilio ignores the header). */
    smsDedupeHeader: boolean;
    /** How long a "timeout" fault holds a request at most. */
    holdMs: number;
    rbmAgentId: string;
    bmAgent: string;
    /** HANDOFF_SECRET: the stand-in desk checks X-Switchboard-Signature with it (accepts anything when unset). */
    handoffSecret?: string;
    /** AUTH_CODE_SECRET: the stand-in sign-in backend checks X-Switchboard-Signature with it (accepts anything when unset). */
    authCodeSecret?: string;
  };
}

/** One authorization code the stand-in sign-in backend received. */
export interface SimAuthCode {
  requestId: string;
  conversationKey: string;
  code: string;
  redirectUri?: string;
}

/** Hono context variables set by the recording middleware for the handlers. */
export interface SimVariables {
  rawBody: string;
  api: CallApi;
  /** Set by a handler when the call reused an id and had no effect. */
  duplicate: boolean;
  /** Set by a handler when it learns the phone / conversation only from the body (Twilio `To`). */
  phone: string | undefined;
  conversation: string | undefined;
}

export type SimEnv = { Variables: SimVariables };

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Google's error JSON: `{ error: { code, message, status } }`. */
export function googleError(
  code: number,
  message: string,
  status?: string,
): { error: { code: number; message: string; status: string } } {
  return { error: { code, message, status: status ?? GOOGLE_STATUS[code] ?? 'UNKNOWN' } };
}

/** Twilio's error JSON: `{ code, message, more_info, status }`. */
export function twilioError(status: number, code: number, message: string): Record<string, unknown> {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}
