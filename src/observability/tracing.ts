/**
 * OpenTelemetry tracing, off unless OTEL_ENABLED: spans for the Temporal client's calls (the API's
 * signalWithStart / updates), for workflow tasks and for activities, all in one trace because the
 * interceptors of @temporalio/interceptors-opentelemetry carry the context in Temporal headers.
 * Spans go to an OTLP/HTTP collector at OTEL_EXPORTER_OTLP_ENDPOINT.
 *
 * Workflow spans are made inside the workflow sandbox by the interceptor module of the tracing
 * bundle (workflow-bundle-tracing.js, which the worker picks when OTEL_ENABLED; see
 * workflow-bundle.ts); they reach this process through the plugin's `exporter` sink.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

import { type Env } from '../config';

/** A running tracing setup: the plugin for Worker.create / new Client, and its shutdown. */
export interface Tracing {
  /** Pass in `plugins` of Worker.create and of the Temporal Client. */
  readonly plugin: OpenTelemetryPlugin;
  readonly spanProcessor: SpanProcessor;
  /** Flushes pending spans and unregisters the global tracer provider. */
  shutdown(): Promise<void>;
}

/** Options of startTracing. */
export interface TracingOptions {
  serviceName: string;
  /** Where spans go; default: OTLP/HTTP to `${endpoint}/v1/traces`. Tests pass an in-memory exporter. */
  exporter?: SpanExporter;
  endpoint?: string;
}

/**
 * Sets tracing up for this process. The activity and client interceptors use the global
 * OpenTelemetry API, so the provider (and an AsyncLocalStorage context manager, without which no
 * span becomes "active" and nothing is propagated) is registered globally; shutdown() undoes it.
 */
export function startTracing(options: TracingOptions): Tracing {
  const exporter =
    options.exporter ??
    new OTLPTraceExporter({ url: `${(options.endpoint ?? 'http://127.0.0.1:4318').replace(/\/+$/, '')}/v1/traces` });
  const resource = new Resource({ 'service.name': options.serviceName });
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const contextManager = new AsyncLocalStorageContextManager();
  provider.register({ contextManager });
  const plugin = new OpenTelemetryPlugin({ resource, spanProcessor });
  return {
    plugin,
    spanProcessor,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** Tracing as configured (OTEL_ENABLED and friends), or undefined when it is off. */
export function tracingFromConfig(
  env: Pick<Env, 'OTEL_ENABLED' | 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  defaultServiceName: string,
): Tracing | undefined {
  if (!env.OTEL_ENABLED) return undefined;
  return startTracing({
    serviceName: env.OTEL_SERVICE_NAME ?? defaultServiceName,
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
}
