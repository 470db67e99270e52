/**
 * The worker process's Temporal Runtime: where the SDK's and core's logs go (JSON through our
 * Logger, so workflow and activity lines carry workflowId / runId / activityId) and where the
 * runtime's metrics are exported (Prometheus, scraped at http://WORKER_METRICS_ADDRESS/metrics).
 * Workflow code's `metricMeter` (e.g. the outbound receipt metrics) is exported there too.
 * Runtime.install must run before the first connection is made, once per process.
 */
import { type Logger as SdkLogger, type LogLevel as SdkLogLevel, type LogMetadata } from '@temporalio/common';
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';

import { type Logger, type LogLevel } from '../logger';
import { OUTBOUND_METRIC_NAMES } from '../workflows/outbound/metrics';

const TO_APP_LEVEL: Record<SdkLogLevel, LogLevel> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};
const TO_CORE_LEVEL: Record<LogLevel, 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
};

/** Error values become plain objects: JSON.stringify would turn an Error into `{}`. */
function toLoggable(meta: LogMetadata | undefined): Record<string, unknown> {
  if (!meta) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    out[key] =
      value instanceof Error
        ? {
            name: value.name,
            message: value.message,
            ...(value.cause instanceof Error ? { cause: value.cause.message } : {}),
          }
        : value;
  }
  return out;
}

/** Adapts the SDK's Logger interface to Switchboard's JSON logger (one object per line). */
export class JsonRuntimeLogger implements SdkLogger {
  constructor(private readonly logger: Logger) {}

  log(level: SdkLogLevel, message: string, meta?: LogMetadata): void {
    this.logger[TO_APP_LEVEL[level]](message, toLoggable(meta));
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** What installWorkerRuntime needs: where logs go, at what level, and where metrics are served. */
export interface WorkerRuntimeOptions {
  logger: Logger;
  logLevel: LogLevel;
  /** host:port for the Prometheus exporter, or undefined for none. */
  metricsAddress: string | undefined;
}

/**
 * Installs the process-wide Temporal Runtime for a worker. SIGINT/SIGTERM (the Runtime's default
 * shutdown signals) then start a graceful shutdown of every worker in the process.
 */
export function installWorkerRuntime(options: WorkerRuntimeOptions): Runtime {
  return Runtime.install({
    logger: new JsonRuntimeLogger(options.logger),
    telemetryOptions: {
      // Core's own lines (polling, connection trouble) are forwarded to the logger above instead of
      // going to stderr in core's text format, so every line the worker prints is JSON.
      logging: {
        forward: {},
        filter: makeTelemetryFilterString({ core: TO_CORE_LEVEL[options.logLevel], other: 'WARN' }),
      },
      ...(options.metricsAddress
        ? {
            metrics: {
              prometheus: { bindAddress: options.metricsAddress, histogramBucketOverrides: RECEIPT_LATENCY_BUCKETS },
            },
          }
        : {}),
    },
  });
}

const RECEIPT_BUCKETS_MS = [
  250, 1000, 5000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000, 604_800_000,
];

/** Time to DELIVERED / READ spans seconds to days (phones offline, READ hours later): the default buckets stop at 10 s. */
const RECEIPT_LATENCY_BUCKETS: Record<string, number[]> = {
  [OUTBOUND_METRIC_NAMES.timeToDeliver]: RECEIPT_BUCKETS_MS,
  [OUTBOUND_METRIC_NAMES.timeToRead]: RECEIPT_BUCKETS_MS,
};

/** WORKER_METRICS_ADDRESS as an address, or undefined when it is `off`. */
export function metricsBindAddress(value: string): string | undefined {
  return value === 'off' ? undefined : value;
}
