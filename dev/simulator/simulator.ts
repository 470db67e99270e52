/**
 * createSimulator: the local Google + Twilio platform as a Hono app plus in-process control
 * methods, so tests run it on a random port over real HTTP and main.ts runs it as its own process.
 */
import { Hono } from 'hono';

import { DEV_CLIENT_TOKEN } from '../../src/config';
import { type Logger, silentLogger } from '../../src/logger';
import { type CallFilter, CallLog, type CallRecord } from './calls';
import { FaultInjector, type FaultRule, type FaultRuleInput } from './faults';
import { platformMiddleware } from './middleware';
import { generateServiceAccount, type ServiceAccountKeyFile, type SimServiceAccount, TokenStore } from './oauth';
import { ALL_FEATURES, type DeviceProfile, type DeviceProfilePatch, Phones, type SimMessage } from './phones';
import { SeededRandom } from './rng';
import { bmRoutes } from './routes/bm';
import { controlRoutes } from './routes/control';
import { deskRoutes } from './routes/desk';
import { oauthRoutes } from './routes/oauth';
import { rawWebhookRoutes } from './routes/raw-webhooks';
import { rbmRoutes } from './routes/rbm';
import { twilioRoutes } from './routes/twilio';
import { userRoutes } from './routes/users';
import { type SimSms, SmsStore } from './sms-store';
import { type SimAuthCode, type SimEnv, type SimulatorState } from './state';
import { Timers } from './timers';
import { PlatformWebhooks, type WebhookRetryPolicy } from './webhooks';

export const DEFAULT_BM_AGENT = 'brands/switchboard-sim/agents/switchboard-sim';

export interface SimulatorOptions {
  /** PRNG seed: generated ids, tokens and fractional faults repeat for the same seed. */
  seed?: number;
  /** The simulator's base URL as clients reach it; can be set after listening (setPublicUrl). */
  publicUrl?: string;
  /** Switchboard's API base URL; webhooks go to {base}/webhooks/rbm and /webhooks/bm. */
  /** Switchboard's base URL, or several (API replicas): webhooks alternate between them. */
  webhookBaseUrl?: string | readonly string[];
  /** Webhook client token for RBM (default DEV_CLIENT_TOKEN) and per-agent overrides. */
  rbmClientToken?: string;
  rbmClientTokens?: Record<string, string>;
  bmClientToken?: string;
  bmClientTokens?: Record<string, string>;
  /** A loaded key (main.ts reads or creates the key file); generated in memory when unset. */
  account?: SimServiceAccount;
  /** Default device behaviour. */
  defaults?: Partial<DeviceProfile>;
  webhookRetry?: Partial<WebhookRetryPolicy>;
  tokenLifetimeS?: number;
  requireAuth?: boolean;
  twilio?: { accountSid: string; authToken: string };
  smsDedupeHeader?: boolean;
  holdMs?: number;
  rbmAgentId?: string;
  bmAgent?: string;
  /** HANDOFF_SECRET, for the stand-in desk at /desk/handoffs to check signatures. */
  handoffSecret?: string;
  /** AUTH_CODE_SECRET, for the stand-in sign-in backend at /desk/auth-codes to check signatures. */
  authCodeSecret?: string;
  logger?: Logger;
}

export interface Simulator {
  /** The Hono app: serve it (server.ts) or call `app.request` in-process. */
  app: Hono<SimEnv>;
  /** Recorded calls and webhooks, in order. */
  calls(filter?: CallFilter): CallRecord[];
  /** Resolves on the first matching call (past or future); rejects after timeoutMs. */
  waitForCall(predicate: (call: CallRecord) => boolean, timeoutMs?: number): Promise<CallRecord>;
  messages(filter?: { phone?: string; conversation?: string }): SimMessage[];
  sms(): SimSms[];
  configurePhone(msisdn: string, patch: DeviceProfilePatch): DeviceProfile;
  configureConversation(conversationId: string, patch: DeviceProfilePatch): DeviceProfile;
  setDefaults(patch: DeviceProfilePatch): DeviceProfile;
  addFault(rule: FaultRuleInput): FaultRule;
  clearFaults(): void;
  /** Forget issued access tokens: the next API call answers 401. */
  revokeTokens(): void;
  /** Access tokens issued so far. */
  tokensIssued(): number;
  /** The service-account key file content, token_uri pointing at this simulator. Contains the private key. */
  serviceAccountKey(): ServiceAccountKeyFile;
  setPublicUrl(url: string): void;
  publicUrl(): string;
  /** Authorization codes handed to the stand-in sign-in backend (/desk/auth-codes), in arrival order. */
  authCodes(): SimAuthCode[];
  /** Forget calls, messages, faults and device settings (the key and issued tokens stay). */
  reset(): void;
  /** Cancel every timer and held request. */
  close(): void;
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const random = new SeededRandom(options.seed ?? 1);
  const timers = new Timers();
  const logger = options.logger ?? silentLogger;
  const calls = new CallLog();
  let publicUrl = (options.publicUrl ?? 'http://127.0.0.1:8090').replace(/\/+$/, '');
  const account = options.account ?? generateServiceAccount(random, `${publicUrl}/token`);
  const defaults: DeviceProfile = {
    reachable: true,
    online: true,
    deliverAfterMs: 1000,
    readAfterMs: 2000,
    ttlOutcome: 'revoked',
    features: [...ALL_FEATURES],
    ...options.defaults,
  };

  const webhooks = new PlatformWebhooks({
    calls,
    timers,
    random,
    logger,
    retry: { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 60_000, attemptTimeoutMs: 10_000, ...options.webhookRetry },
    ...(options.webhookBaseUrl ? { webhookBaseUrl: options.webhookBaseUrl } : {}),
    rbmToken: (agentId) => options.rbmClientTokens?.[agentId] ?? options.rbmClientToken ?? DEV_CLIENT_TOKEN,
    bmToken: (agent) => options.bmClientTokens?.[agent] ?? options.bmClientToken ?? DEV_CLIENT_TOKEN,
  });
  const bmAgent = options.bmAgent ?? DEFAULT_BM_AGENT;
  const phones = new Phones({ timers, webhooks, random, defaults, bmAgent });
  const state: SimulatorState = {
    calls,
    faults: new FaultInjector(random),
    phones,
    eventIds: new Set(),
    handoffIds: new Set(),
    authCodes: new Map(),
    sms: new SmsStore(),
    webhooks,
    tokens: new TokenStore(random),
    random,
    timers,
    logger,
    account,
    publicUrl: () => publicUrl,
    settings: {
      tokenLifetimeS: options.tokenLifetimeS ?? 3600,
      requireAuth: options.requireAuth ?? true,
      ...(options.twilio ? { twilio: options.twilio } : {}),
      smsDedupeHeader: options.smsDedupeHeader ?? true,
      holdMs: options.holdMs ?? 120_000,
      rbmAgentId: options.rbmAgentId ?? 'switchboard-dev@rbm.goog',
      bmAgent,
      ...(options.handoffSecret ? { handoffSecret: options.handoffSecret } : {}),
      ...(options.authCodeSecret ? { authCodeSecret: options.authCodeSecret } : {}),
    },
  };

  const reset = () => {
    calls.clear();
    state.faults.clear();
    state.eventIds.clear();
    state.handoffIds.clear();
    state.authCodes.clear();
    state.sms.clear();
    phones.reset(defaults);
  };

  const app = new Hono<SimEnv>();
  app.use('*', platformMiddleware(state));
  app.route('/', oauthRoutes(state));
  app.route('/v1/phones', rbmRoutes(state));
  app.route('/v1/conversations', bmRoutes(state));
  app.route('/2010-04-01', twilioRoutes(state));
  app.route('/desk', deskRoutes(state));
  app.route('/sim/users', userRoutes(state));
  app.route('/sim/webhooks', rawWebhookRoutes(state));
  app.route('/sim', controlRoutes(state, reset));
  app.notFound((c) =>
    c.json(
      { error: { code: 404, message: `the simulator has no ${c.req.method} ${c.req.path}`, status: 'NOT_FOUND' } },
      404,
    ),
  );
  app.onError((err, c) => {
    logger.error('simulator error', { error: err.message, path: c.req.path });
    return c.json({ error: { code: 500, message: 'simulator error', status: 'INTERNAL' } }, 500);
  });

  return {
    app,
    calls: (filter) => calls.list(filter),
    waitForCall: (predicate, timeoutMs) => calls.waitFor(predicate, timeoutMs),
    messages: (filter) => phones.list(filter),
    sms: () => state.sms.list(),
    configurePhone: (msisdn, patch) => phones.configure(`rbm:${msisdn}`, patch),
    configureConversation: (conversationId, patch) => phones.configure(`bm:${conversationId}`, patch),
    setDefaults: (patch) => phones.setDefaults(patch),
    addFault: (rule) => state.faults.add(rule),
    clearFaults: () => state.faults.clear(),
    revokeTokens: () => state.tokens.revokeAll(),
    tokensIssued: () => state.tokens.issued,
    authCodes: () => [...state.authCodes.values()],
    serviceAccountKey: () => ({ ...account.key, token_uri: `${publicUrl}/token` }),
    setPublicUrl: (url) => {
      publicUrl = url.replace(/\/+$/, '');
    },
    publicUrl: () => publicUrl,
    reset,
    close: () => timers.close(),
  };
}
