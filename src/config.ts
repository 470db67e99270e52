/**
 * The one place that reads the environment. Everything is parsed once, typed, and fails fast with
 * a message naming the variable. Temporal connection settings follow the SDK's envconfig names
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE,
 * TEMPORAL_CONFIG_FILE) and are loaded through @temporalio/envconfig.
 */
import { type ClientConnectConfig, loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';

import { type RoutingConfig } from './routing';
import { loadRoutingConfig } from './routing/load';
import { type PayloadEncryption } from './temporal/payload-codec';
import { parsePayloadKeys, type PayloadKey, PayloadKeyError, readPayloadKeyFile } from './temporal/payload-keys';

/** The dev-only webhook client token shared by `npm start` and the simulator. Never use it in production. */
export const DEV_CLIENT_TOKEN = 'switchboard-dev-client-token';
/** The dev-only operator API bearer token printed by `npm start` when API_TOKEN is unset. */
export const DEV_API_TOKEN = 'switchboard-dev-api-token';
/** The dev-only codec server token `npm start` gives its Web UI when CODEC_SERVER_TOKEN is unset. */
export const DEV_CODEC_TOKEN = 'switchboard-dev-codec-token';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
const url = z.url();

/** Every variable Switchboard reads, with its default. The configuration table of docs/configuration.md is checked against this. */
export const envSchema = z.object({
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** `json`: one object per line (for log collectors); `pretty`: readable single lines (what `npm start` sets for its children). */
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /** `production` refuses to run the API or a worker without payload encryption keys (unless PAYLOAD_ENCRYPTION=off); `development` is npm start, the tests and the benchmarks. */
  SWITCHBOARD_MODE: z.enum(['production', 'development']).default('production'),

  /** `off` writes new Temporal payloads in clear (configured keys still decrypt what they encrypted). */
  PAYLOAD_ENCRYPTION: z.enum(['on', 'off']).default('on'),
  /** AES-256 keys of the payload codec: `keyId:base64key`, comma-separated; the first encrypts, all decrypt. */
  PAYLOAD_ENCRYPTION_KEYS: z.string().min(1).optional(),
  /** A file with the same list, one entry per line (`#` comments); instead of PAYLOAD_ENCRYPTION_KEYS. */
  PAYLOAD_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
  /** Bearer token of the codec server endpoint (/codec); unset: the endpoint answers 503. */
  CODEC_SERVER_TOKEN: z.string().min(16).optional(),
  /** Origins (comma-separated) whose browsers may call /codec: the Temporal Web UI's. */
  CODEC_SERVER_CORS_ORIGINS: z.string().optional(),

  TEMPORAL_TASK_QUEUE: z.string().min(1).default('switchboard'),
  /** Bound on how long a webhook waits for Temporal before answering 503. */
  TEMPORAL_SIGNAL_TIMEOUT_MS: positiveInt.default(5000),
  /** Show full phone numbers in workflow IDs (off: masked number plus a keyed hash). */
  WORKFLOW_ID_REVEAL_PHONE: bool.default(false),
  /** Key for the hash that makes masked workflow IDs unique per number. */
  WORKFLOW_ID_SECRET: z.string().min(1).default('switchboard-dev-workflow-id-secret'),

  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  /** Bearer token for the /v1 operator API. */
  API_TOKEN: z.string().min(16).optional(),
  /** At most 16 MiB: a kept body lives in the history of its unrecognized-payload workflow, whose limit is 50 MB. */
  WEBHOOK_BODY_LIMIT_BYTES: positiveInt
    .max(16 * 1024 * 1024, 'must be at most 16777216 (16 MiB): a kept body lives in one workflow history')
    .default(1_048_576),
  /** Days a signed payload kept under /v1/unrecognized-payloads waits for an operator before it expires; at least 7, Google's redelivery window. */
  UNRECOGNIZED_PAYLOAD_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(7, 'must be at least 7 (Google redelivers for 7 days)')
    .max(3650)
    .default(30),

  RBM_CLIENT_TOKEN: z.string().min(1).optional(),
  BM_CLIENT_TOKEN: z.string().min(1).optional(),
  /** Several agents: JSON object {"agent@rbm.goog": "token", ...}; RBM_CLIENT_TOKEN is the fallback. */
  RBM_CLIENT_TOKENS: z.string().optional(),
  /** Several Business Messages agents: JSON object {"brands/b/agents/a": "token", ...}. */
  BM_CLIENT_TOKENS: z.string().optional(),

  RBM_AGENT_ID: z.string().min(1).default('switchboard-dev@rbm.goog'),
  /** Unset means Google (regional host from RBM_REGION); set it to the simulator's URL for local runs. */
  RBM_API_BASE_URL: url.optional(),
  /** Google's RBM host when RBM_API_BASE_URL is unset: the region the agent was created in. */
  RBM_REGION: z.enum(['global', 'us', 'europe', 'asia']).default('global'),
  /** RBM `messageTrafficType` sent with every agent message unless the workflow picks one (e.g. TRANSACTION). */
  RBM_MESSAGE_TRAFFIC_TYPE: z
    .string()
    .regex(/^[A-Z_]+$/, 'an upper-case enum value such as TRANSACTION')
    .optional(),
  /** Unset means https://businessmessages.googleapis.com. */
  BM_API_BASE_URL: url.optional(),
  /** Per-request timeout of every outbound API call (RBM, Business Messages, SMS, handoff, OAuth token). */
  OUTBOUND_HTTP_TIMEOUT_MS: positiveInt.default(10_000),
  /** Path to a Google service-account JSON key; its token_uri may be overridden by GOOGLE_TOKEN_URI. */
  GOOGLE_APPLICATION_CREDENTIALS: z.string().min(1).optional(),
  GOOGLE_TOKEN_URI: url.optional(),

  SMS_PROVIDER: z.enum(['twilio']).default('twilio'),
  TWILIO_BASE_URL: url.optional(),
  TWILIO_ACCOUNT_SID: z.string().min(1).optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  SMS_FROM: z.string().min(1).optional(),
  SMS_STATUS_CALLBACK_URL: url.optional(),

  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: port.default(8090),
  /** Where the simulator posts webhooks (Switchboard's API): one URL, or several separated by commas (API replicas; posts alternate between them). */
  SIMULATOR_WEBHOOK_BASE_URL: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(url).min(1))
    .optional(),
  SIMULATOR_SEED: z.coerce.number().int().default(1),
  /** Base URL others reach the simulator at (token_uri in its key file, the CLI); default http://SIMULATOR_HOST:SIMULATOR_PORT. */
  SIMULATOR_PUBLIC_URL: url.optional(),
  /** The simulator's generated service-account key (created if missing, reused if present); point GOOGLE_APPLICATION_CREDENTIALS at it. */
  SIMULATOR_SERVICE_ACCOUNT_FILE: z.string().min(1).default('.data/dev/service-account.json'),
  /** Default simulated phone: DELIVERED this many ms after a message is accepted. */
  SIMULATOR_DELIVER_AFTER_MS: z.coerce.number().int().min(0).default(1000),
  /** Default simulated phone: READ this many ms after delivery. */
  SIMULATOR_READ_AFTER_MS: z.coerce.number().int().min(0).default(2000),
  /** Webhook posts the simulator makes before dropping one (Google retries for days; locally a few tries suffice). */
  SIMULATOR_WEBHOOK_MAX_ATTEMPTS: positiveInt.default(8),
  /** First webhook retry delay; doubles per attempt, capped at 60 s. */
  SIMULATOR_WEBHOOK_RETRY_BASE_MS: positiveInt.default(1000),

  ROUTING_FILE: z.string().min(1).optional(),
  HANDOFF_URL: url.optional(),
  HANDOFF_SECRET: z.string().min(1).optional(),
  /** Where the API hands a Business Messages sign-in's authorization code (signed POST; src/channels/auth-codes.ts); unset: the code is dropped unused. */
  AUTH_CODE_URL: url.optional(),
  /** Signs those POSTs (X-Switchboard-Signature, HMAC-SHA256); required with AUTH_CODE_URL. */
  AUTH_CODE_SECRET: z.string().min(1).optional(),

  // Worker deployment and tuning (src/temporal/worker-process.ts). Defaults equal the SDK's own,
  // except the shutdown grace, which the SDK leaves at 0 (in-flight activities cancelled at once),
  // and the cache, which the SDK sizes from the heap (too many for a 1 GiB container).
  /** Max activities this worker runs at once (Worker option maxConcurrentActivityTaskExecutions). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100),
  /** Max workflow tasks this worker runs at once (maxConcurrentWorkflowTaskExecutions); at least 2 with a workflow cache. */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  /**
   * Workflow executions kept in the sticky cache (maxCachedWorkflows; 0 turns it off). 1 000 keeps
   * a worker with 10 000 open conversations under 1 GiB of RSS (`npm run bench -- --scale`).
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(1000),
  /** After SIGTERM/SIGINT: how long in-flight tasks may finish before their activities are cancelled (shutdownGraceTime). */
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(20_000),
  /**
   * Worker Versioning (docs/deployment.md, "Rolling upgrades"): the worker deployment this worker
   * belongs to and its build ID (e.g. the release or the bundle's git commit). Set both or
   * neither; set, the worker polls as that deployment version and its conversations are
   * AUTO_UPGRADE (they move to the deployment's current version at their next workflow task).
   */
  WORKER_DEPLOYMENT_NAME: z.string().min(1).optional(),
  WORKER_BUILD_ID: z.string().min(1).optional(),
  /**
   * A prebuilt workflow bundle (`npm run build` writes dist/workflow-bundle.js, and
   * dist/workflow-bundle-tracing.js for OTEL_ENABLED=true); unset = the one of the tracing setting
   * next to the compiled worker, else bundle at start.
   */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /** The worker's health endpoint (GET /healthz, /readyz); unset = no endpoint. */
  WORKER_HEALTH_PORT: port.optional(),
  WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /** host:port of the worker runtime's Prometheus exporter (GET /metrics); `off` disables it. */
  WORKER_METRICS_ADDRESS: z
    .string()
    .regex(
      /^(off|[^\s:]+:\d{1,5}|\[[0-9a-fA-F:.]+\]:\d{1,5})$/,
      'host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464, or off',
    )
    .default('127.0.0.1:9464'),

  /** OpenTelemetry tracing through @temporalio/interceptors-opentelemetry (worker and Temporal client). */
  OTEL_ENABLED: bool.default(false),
  /** OTLP/HTTP collector base URL; spans go to {endpoint}/v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url.default('http://127.0.0.1:4318'),
  /** `service.name` of exported spans; unset = switchboard-worker / switchboard-api. */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});

export type Env = z.infer<typeof envSchema>;

/** Names of every variable this module reads (for the docs/configuration.md drift test). */
export const CONFIG_VARIABLES: readonly string[] = [
  ...Object.keys(envSchema.shape),
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
];

export interface TemporalConfig {
  /** Options for NativeConnection (worker) and Connection (client); same shape for what we use. */
  connection: ClientConnectConfig['connectionOptions'] & { address: string };
  namespace: string;
  taskQueue: string;
  signalTimeoutMs: number;
  /** The payload codec's keys and whether it encrypts (PAYLOAD_ENCRYPTION*): every client and worker uses it. */
  payloadEncryption: PayloadEncryption;
  /** Worker Versioning: the deployment version this worker polls as (WORKER_DEPLOYMENT_NAME + WORKER_BUILD_ID); unset = unversioned. */
  workerDeployment: { deploymentName: string; buildId: string } | undefined;
}

export interface Config {
  env: Env;
  /** SWITCHBOARD_MODE. */
  mode: 'production' | 'development';
  temporal: TemporalConfig;
  /** Webhook client tokens: default per channel plus per-agent overrides. */
  webhookTokens: {
    rbm: { default?: string; byAgent: Record<string, string> };
    bm: { default?: string; byAgent: Record<string, string> };
  };
  /** True when the outbound APIs point at real Google (credentials configured), false for the simulator. */
  usesRealGoogle: boolean;
  apiToken: string | undefined;
  /** The validated routing file (ROUTING_FILE); undefined hands every message to the default human queue. */
  routing: RoutingConfig | undefined;
  /** The codec server endpoint (/codec): its token (unset: disabled) and the browser origins it answers. */
  codecServer: { token: string | undefined; corsOrigins: string[] };
  /** The consumer of Business Messages authorization codes (AUTH_CODE_URL, AUTH_CODE_SECRET); undefined: codes are dropped unused. */
  authCodes: { url: string; secret: string } | undefined;
}

function parseTokenMap(name: string, raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} must be a JSON object of {"agent": "token"}`);
  }
  const parsed = z.record(z.string().min(1), z.string().min(1)).safeParse(value);
  if (!parsed.success) throw new ConfigError(`${name} must be a JSON object of {"agent": "token"}`);
  return parsed.data;
}

function loadRouting(file: string | undefined): RoutingConfig | undefined {
  if (!file) return undefined;
  try {
    return loadRoutingConfig(file);
  } catch (err) {
    throw new ConfigError(`ROUTING_FILE=${file}: ${(err as Error).message}`);
  }
}

function loadPayloadKeys(env: Env): PayloadKey[] {
  if (env.PAYLOAD_ENCRYPTION_KEYS !== undefined && env.PAYLOAD_ENCRYPTION_KEY_FILE !== undefined) {
    throw new ConfigError('set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE, not both');
  }
  try {
    if (env.PAYLOAD_ENCRYPTION_KEYS !== undefined) return parsePayloadKeys(env.PAYLOAD_ENCRYPTION_KEYS);
    if (env.PAYLOAD_ENCRYPTION_KEY_FILE !== undefined) return readPayloadKeyFile(env.PAYLOAD_ENCRYPTION_KEY_FILE);
  } catch (err) {
    if (!(err instanceof PayloadKeyError)) throw err;
    const where =
      env.PAYLOAD_ENCRYPTION_KEYS !== undefined
        ? 'PAYLOAD_ENCRYPTION_KEYS'
        : `PAYLOAD_ENCRYPTION_KEY_FILE=${env.PAYLOAD_ENCRYPTION_KEY_FILE}`;
    throw new ConfigError(`${where}: ${err.message}`);
  }
  return [];
}

function parseOrigins(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '')
    .map((origin) => {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        parsed = undefined;
      }
      if (!parsed || parsed.origin !== origin)
        throw new ConfigError(
          `CODEC_SERVER_CORS_ORIGINS: ${origin} is not an origin (scheme://host[:port], no path), e.g. http://localhost:8233`,
        );
      return origin;
    });
}

/**
 * Fails unless this process may store payloads the way it is configured to: in production a key
 * is required, unless PAYLOAD_ENCRYPTION=off says on purpose that payloads are stored in clear.
 * The API and the worker call it at start; other entry points (tests, tools) need not.
 */
export function requirePayloadEncryption(config: Config): void {
  if (
    config.mode !== 'production' ||
    config.env.PAYLOAD_ENCRYPTION === 'off' ||
    config.temporal.payloadEncryption.keys.length > 0
  )
    return;
  throw new ConfigError(
    'SWITCHBOARD_MODE=production needs payload encryption keys: set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE (docs/privacy.md), or PAYLOAD_ENCRYPTION=off to store message texts and phone numbers in Temporal in clear',
  );
}

/** The default WORKFLOW_ID_SECRET: fine for npm start, never for a deployment. */
const DEV_WORKFLOW_ID_SECRET = 'switchboard-dev-workflow-id-secret';
/** Shortest client, API and codec token accepted outside development. */
const MIN_PRODUCTION_TOKEN_LENGTH = 32;

/**
 * Fails unless a production process is configured as a deployment must be: none of the dev tokens,
 * no default WORKFLOW_ID_SECRET, client / API / codec tokens of at least 32 characters, and https
 * for the outbound APIs (Google, the SMS provider, the agent desk). The message names the
 * variable. Development (`npm start`, tests, benchmarks) is exempt. The API and the worker call it
 * at start.
 */
export function requireProductionConfig(config: Config, role: 'api' | 'worker'): void {
  if (config.mode !== 'production') return;
  const env = config.env;
  const problems: string[] = [];
  const dev = new Set([DEV_CLIENT_TOKEN, DEV_API_TOKEN, DEV_CODEC_TOKEN]);
  const token = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    if (dev.has(value)) problems.push(`${name} is a development token of npm start`);
    else if (value.length < MIN_PRODUCTION_TOKEN_LENGTH)
      problems.push(`${name} must be at least ${MIN_PRODUCTION_TOKEN_LENGTH} characters (it has ${value.length})`);
  };
  token('RBM_CLIENT_TOKEN', env.RBM_CLIENT_TOKEN);
  token('BM_CLIENT_TOKEN', env.BM_CLIENT_TOKEN);
  for (const [agent, value] of Object.entries(config.webhookTokens.rbm.byAgent))
    token(`RBM_CLIENT_TOKENS[${JSON.stringify(agent)}]`, value);
  for (const [agent, value] of Object.entries(config.webhookTokens.bm.byAgent))
    token(`BM_CLIENT_TOKENS[${JSON.stringify(agent)}]`, value);
  token('API_TOKEN', env.API_TOKEN);
  token('CODEC_SERVER_TOKEN', env.CODEC_SERVER_TOKEN);
  if (role === 'api') token('AUTH_CODE_SECRET', env.AUTH_CODE_SECRET);
  // Only the API computes workflow IDs from conversation keys.
  if (role === 'api' && env.WORKFLOW_ID_SECRET === DEV_WORKFLOW_ID_SECRET)
    problems.push(
      'WORKFLOW_ID_SECRET is the default; set a secret of your own (once: changing it gives running conversations new workflow IDs)',
    );
  for (const name of [
    'RBM_API_BASE_URL',
    'BM_API_BASE_URL',
    'GOOGLE_TOKEN_URI',
    'TWILIO_BASE_URL',
    'SMS_STATUS_CALLBACK_URL',
    'HANDOFF_URL',
    'AUTH_CODE_URL',
  ] as const) {
    const value = env[name];
    if (value !== undefined && !value.toLowerCase().startsWith('https://'))
      problems.push(`${name} must be an https:// URL outside development`);
  }
  if (problems.length > 0)
    throw new ConfigError(
      `SWITCHBOARD_MODE=production refuses this configuration (SWITCHBOARD_MODE=development is for npm start and tests):\n  ${problems.join('\n  ')}`,
    );
}

/** Parses configuration from an environment (default: process.env). Throws ConfigError naming the bad variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const env = parsed.data;

  let connect: ClientConnectConfig;
  try {
    const overrideEnvVars = Object.fromEntries(
      Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined),
    );
    connect = loadClientConnectConfig({ overrideEnvVars });
  } catch (err) {
    throw new ConfigError(
      `invalid Temporal configuration (TEMPORAL_* variables or TEMPORAL_CONFIG_FILE): ${(err as Error).message}`,
    );
  }

  const payloadKeys = loadPayloadKeys(env);
  if ((env.AUTH_CODE_URL === undefined) !== (env.AUTH_CODE_SECRET === undefined)) {
    throw new ConfigError(
      `${env.AUTH_CODE_URL === undefined ? 'AUTH_CODE_URL' : 'AUTH_CODE_SECRET'} is unset: handing sign-in codes over needs both AUTH_CODE_URL and AUTH_CODE_SECRET (or neither, and codes are dropped unused)`,
    );
  }
  if ((env.WORKER_DEPLOYMENT_NAME === undefined) !== (env.WORKER_BUILD_ID === undefined)) {
    throw new ConfigError(
      `${env.WORKER_DEPLOYMENT_NAME === undefined ? 'WORKER_DEPLOYMENT_NAME' : 'WORKER_BUILD_ID'} is unset: Worker Versioning needs both WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID (or neither)`,
    );
  }
  return {
    env,
    mode: env.SWITCHBOARD_MODE,
    temporal: {
      connection: { ...connect.connectionOptions, address: connect.connectionOptions.address ?? '127.0.0.1:7233' },
      namespace: connect.namespace ?? 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      signalTimeoutMs: env.TEMPORAL_SIGNAL_TIMEOUT_MS,
      payloadEncryption: { keys: payloadKeys, encrypt: env.PAYLOAD_ENCRYPTION === 'on' && payloadKeys.length > 0 },
      workerDeployment:
        env.WORKER_DEPLOYMENT_NAME !== undefined && env.WORKER_BUILD_ID !== undefined
          ? { deploymentName: env.WORKER_DEPLOYMENT_NAME, buildId: env.WORKER_BUILD_ID }
          : undefined,
    },
    webhookTokens: {
      rbm: { default: env.RBM_CLIENT_TOKEN, byAgent: parseTokenMap('RBM_CLIENT_TOKENS', env.RBM_CLIENT_TOKENS) },
      bm: { default: env.BM_CLIENT_TOKEN, byAgent: parseTokenMap('BM_CLIENT_TOKENS', env.BM_CLIENT_TOKENS) },
    },
    usesRealGoogle: env.GOOGLE_APPLICATION_CREDENTIALS !== undefined && env.RBM_API_BASE_URL === undefined,
    apiToken: env.API_TOKEN,
    routing: loadRouting(env.ROUTING_FILE),
    codecServer: { token: env.CODEC_SERVER_TOKEN, corsOrigins: parseOrigins(env.CODEC_SERVER_CORS_ORIGINS) },
    authCodes:
      env.AUTH_CODE_URL !== undefined && env.AUTH_CODE_SECRET !== undefined
        ? { url: env.AUTH_CODE_URL, secret: env.AUTH_CODE_SECRET }
        : undefined,
  };
}

/** A copy of this process's environment, for entry points that start children with it (`npm start`). */
export function processEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}
