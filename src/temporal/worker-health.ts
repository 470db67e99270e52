/**
 * A tiny HTTP endpoint for orchestrators (Kubernetes probes, compose healthchecks):
 *
 * - GET /healthz  liveness: 200 unless the worker FAILED (a worker that is draining is alive);
 * - GET /readyz   readiness: 200 only while the worker is RUNNING and Temporal answers a health
 *                 check within the bound; 503 otherwise, with the reason.
 *
 * Both answer JSON with the worker's state and its status counters (in-flight activities, cached
 * workflows, pollers), so `curl` shows what a stuck worker is doing.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

import { type NativeConnection, type Worker } from '@temporalio/worker';

/** The worker and connection to report on, and where to listen. */
export interface WorkerHealthOptions {
  worker: Pick<Worker, 'getState' | 'getStatus'>;
  connection: Pick<NativeConnection, 'healthService' | 'withDeadline'>;
  host: string;
  port: number;
  /** Bound on the Temporal health check behind /readyz. */
  checkTimeoutMs?: number;
}

/** A running health endpoint. */
export interface WorkerHealthServer {
  /** http://host:port */
  readonly url: string;
  close(): Promise<void>;
}

/** Asks Temporal's gRPC health service; false on any error or when it does not answer in time. */
async function temporalServing(connection: WorkerHealthOptions['connection'], timeoutMs: number): Promise<boolean> {
  try {
    const res = await connection.withDeadline(Date.now() + timeoutMs, () => connection.healthService.check({}));
    // SERVING = 1 in grpc.health.v1.HealthCheckResponse.ServingStatus.
    return res.status === 1;
  } catch {
    return false;
  }
}

/** Starts the endpoint; resolves once it listens. */
export async function startWorkerHealthServer(options: WorkerHealthOptions): Promise<WorkerHealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    const state = options.worker.getState();
    const status = options.worker.getStatus();
    if (path === '/healthz') return send(state === 'FAILED' ? 503 : 200, { state, status });
    if (path === '/readyz') {
      if (state !== 'RUNNING') return send(503, { ready: false, reason: `worker is ${state}`, state, status });
      void temporalServing(options.connection, timeoutMs).then((serving) =>
        send(serving ? 200 : 503, {
          ready: serving,
          ...(serving ? {} : { reason: 'Temporal did not answer its health check' }),
          state,
          status,
        }),
      );
      return;
    }
    send(404, { error: 'not found', routes: ['/healthz', '/readyz'] });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
