/**
 * The API's own Prometheus metrics, served at GET /metrics (src/api/app.ts):
 *
 * - switchboard_http_request_duration_seconds  histogram {method, route, status}
 * - switchboard_http_requests_total            counter   {method, route, status}
 * - switchboard_webhook_requests_total         counter   {channel, outcome, status}
 * - process / Node.js defaults (prom-client's collectDefaultMetrics), prefixed `switchboard_api_`
 *
 * `route` is the matched route pattern (`/v1/conversations/:key/messages`), never the raw path:
 * raw paths carry conversation keys (phone numbers) and would make one series per user.
 * Each createApiMetrics() has its own Registry, so tests and several apps in one process never
 * share counters. The worker's metrics (Temporal runtime, receipt metrics from workflows) are on
 * the worker's own exporter (WORKER_METRICS_ADDRESS), not here.
 */
import { type Context, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

import { type Logger } from '../logger';

/** What a webhook answer means, by status (the contract in src/api/webhook-processor.ts), when the route did not say more. */
const WEBHOOK_OUTCOME_BY_STATUS: Readonly<Record<number, string>> = {
  200: 'accepted',
  401: 'unauthenticated',
  413: 'too_large',
  503: 'temporal_unavailable',
};

/** Context variable the webhook routes set to their outcome; `stored` (kept for an operator) becomes `stored_unrecognized`. */
export const WEBHOOK_OUTCOME_VARIABLE = 'webhookOutcome';

const WEBHOOK_ROUTES: Readonly<Record<string, string>> = { '/webhooks/rbm': 'rbm', '/webhooks/bm': 'bm' };

/** Route label for requests no route matched (404s): one series, whatever the path. */
const UNMATCHED_ROUTE = 'unmatched';

/** The API's metrics: its own registry and the middleware that fills it. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** Times and counts every request; mount first (after the request id). */
  readonly middleware: MiddlewareHandler;
  /** The text exposition for GET /metrics. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Options of createApiMetrics. */
export interface ApiMetricsOptions {
  /** Also collect process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** One line per request (requestId, method, route, status, ms); omitted when absent. */
  logger?: Logger;
}

/**
 * The pattern of the route the request was for, e.g. `/v1/conversations/:key`, also when
 * middleware answered first (a 401 from bearer auth); UNMATCHED_ROUTE when no route matched.
 * Middleware is registered with `use` (method ALL); Hono runs the first matching handler.
 */
function matchedRoutePattern(c: Context): string {
  const route = matchedRoutes(c).find((r) => r.method !== 'ALL');
  return route ? route.path : UNMATCHED_ROUTE;
}

// Health probes and scrapes would drown everything else at info level.
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** A fresh registry with the API's metrics and the middleware that fills them. */
export function createApiMetrics(options: ApiMetricsOptions = {}): ApiMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'switchboard_api_' });
  const duration = new Histogram({
    name: 'switchboard_http_request_duration_seconds',
    help: 'HTTP request latency of the API, by matched route',
    labelNames: ['method', 'route', 'status'] as const,
    // Webhooks answer after Temporal accepted the signal: tens of ms normally, up to TEMPORAL_SIGNAL_TIMEOUT_MS.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'switchboard_http_requests_total',
    help: 'HTTP requests answered by the API, by matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'switchboard_webhook_requests_total',
    help: 'Webhook deliveries by channel and outcome (accepted, stored_unrecognized, unauthenticated, too_large, temporal_unavailable)',
    labelNames: ['channel', 'outcome', 'status'] as const,
    registers: [registry],
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const route = matchedRoutePattern(c);
      // A handler that threw past onError has no response yet; Hono answers 500 for it.
      const status = c.finalized ? c.res.status : 500;
      const labels = { method: c.req.method, route, status: String(status) };
      duration.observe(labels, seconds);
      requests.inc(labels);
      const channel = WEBHOOK_ROUTES[route];
      if (channel !== undefined && c.req.method === 'POST') {
        const said = c.get(WEBHOOK_OUTCOME_VARIABLE as never) as string | undefined;
        const outcome = said === 'stored' ? 'stored_unrecognized' : (WEBHOOK_OUTCOME_BY_STATUS[status] ?? 'other');
        webhooks.inc({ channel, outcome, status: String(status) });
      }
      if (options.logger) {
        const requestId = (c.get('requestId' as never) as string | undefined) ?? undefined;
        // The webhook path logs its own detailed line; keep this one for everything else at info.
        const quiet = QUIET_ROUTES.has(route) || channel !== undefined;
        options.logger[quiet ? 'debug' : 'info']('http request', {
          requestId,
          method: c.req.method,
          route,
          status,
          ms: Math.round(seconds * 10_000) / 10,
        });
      }
    }
  };

  return {
    registry,
    middleware,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
