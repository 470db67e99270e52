/**
 * The one place that reads the environment. Everything is parsed once, typed, and fails fast with
 * a message naming the variable. Temporal connection settings follow the SDK's envconfig names
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE,
 * TEMPORAL_CONFIG_FILE) and are loaded through @temporalio/envconfig.
 */
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { type RoutingConfig } from './routing';
import { loadRoutingConfig } from './routing/load';

/** The dev-only webhook client token shared by `npm start` and the simulator. Never use it in production. */
export const DEV_CLIENT_TOKEN = 'switchboard-dev-client-token';
/** The dev-only operator API bearer token printed by `npm start` when API_TOKEN is unset. */
export const DEV_API_TOKEN = 'switchboard-dev-api-token';

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

/** Every variable Switchboard reads, with its default. The README's configuration table is checked against this. */
export const envSchema = z.object({
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

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
  WEBHOOK_BODY_LIMIT_BYTES: positiveInt.default(1_048_576),

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
  RBM_MESSAGE_TRAFFIC_TYPE: z.string().regex(/^[A-Z_]+$/, 'an upper-case enum value such as TRANSACTION').optional(),
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
  /** Where the simulator posts webhooks (Switchboard's API). */
  SIMULATOR_WEBHOOK_BASE_URL: url.optional(),
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

  // Worker deployment and tuning (src/temporal/worker-process.ts). Defaults equal the SDK's own,
  // except the shutdown grace, which the SDK leaves at 0 (in-flight activities cancelled at once).
  /** Max activities this worker runs at once (Worker option maxConcurrentActivityTaskExecutions). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100),
  /** Max workflow tasks this worker runs at once (maxConcurrentWorkflowTaskExecutions); at least 2 with a workflow cache. */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  /** Workflow executions kept in the sticky cache (maxCachedWorkflows); unset = the SDK's heap-based default. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  /** After SIGTERM/SIGINT: how long in-flight tasks may finish before their activities are cancelled (shutdownGraceTime). */
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(20_000),
  /** A prebuilt workflow bundle (`npm run build` writes dist/workflow-bundle.js); unset = that file next to the compiled worker, else bundle at start. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /** The worker's health endpoint (GET /healthz, /readyz); unset = no endpoint. */
  WORKER_HEALTH_PORT: port.optional(),
  WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /** host:port of the worker runtime's Prometheus exporter (GET /metrics); `off` disables it. */
  WORKER_METRICS_ADDRESS: z
    .string()
    .regex(/^(off|[^\s:]+:\d{1,5}|\[[0-9a-fA-F:.]+\]:\d{1,5})$/, 'host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464, or off')
    .default('127.0.0.1:9464'),

  /** OpenTelemetry tracing through @temporalio/interceptors-opentelemetry (worker and Temporal client). */
  OTEL_ENABLED: bool.default(false),
  /** OTLP/HTTP collector base URL; spans go to {endpoint}/v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url.default('http://127.0.0.1:4318'),
  /** `service.name` of exported spans; unset = switchboard-worker / switchboard-api. */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});

export type Env = z.infer<typeof envSchema>;

/** Names of every variable this module reads (for the README drift test). */
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
}

export interface Config {
  env: Env;
  temporal: TemporalConfig;
  /** Webhook client tokens: default per channel plus per-agent overrides. */
  webhookTokens: { rbm: { default?: string; byAgent: Record<string, string> }; bm: { default?: string; byAgent: Record<string, string> } };
  /** True when the outbound APIs point at real Google (credentials configured), false for the simulator. */
  usesRealGoogle: boolean;
  apiToken: string | undefined;
  /** The validated routing file (ROUTING_FILE); undefined hands every message to the default human queue. */
  routing: RoutingConfig | undefined;
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
    const overrideEnvVars = Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined));
    connect = loadClientConnectConfig({ overrideEnvVars });
  } catch (err) {
    throw new ConfigError(`invalid Temporal configuration (TEMPORAL_* variables or TEMPORAL_CONFIG_FILE): ${(err as Error).message}`);
  }

  return {
    env,
    temporal: {
      connection: { ...connect.connectionOptions, address: connect.connectionOptions.address ?? '127.0.0.1:7233' },
      namespace: connect.namespace ?? 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      signalTimeoutMs: env.TEMPORAL_SIGNAL_TIMEOUT_MS,
    },
    webhookTokens: {
      rbm: { default: env.RBM_CLIENT_TOKEN, byAgent: parseTokenMap('RBM_CLIENT_TOKENS', env.RBM_CLIENT_TOKENS) },
      bm: { default: env.BM_CLIENT_TOKEN, byAgent: parseTokenMap('BM_CLIENT_TOKENS', env.BM_CLIENT_TOKENS) },
    },
    usesRealGoogle: env.GOOGLE_APPLICATION_CREDENTIALS !== undefined && env.RBM_API_BASE_URL === undefined,
    apiToken: env.API_TOKEN,
    routing: loadRouting(env.ROUTING_FILE),
  };
}

/** A copy of this process's environment, for entry points that start children with it (`npm start`). */
export function processEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}
