import { Client, type ClientPlugin, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

import { type TemporalConfig } from '../config';
import { payloadDataConverter } from './payload-codec';

/**
 * A lazily connecting client for the API: the server starts even while Temporal is down, and each
 * call is bounded by the caller's deadline. Its data converter carries the payload codec
 * (config.payloadEncryption), like every client and worker of Switchboard.
 */
export function createLazyClient(config: TemporalConfig, options: { plugins?: ClientPlugin[] } = {}): Client {
  const connection = Connection.lazy({ ...config.connection, connectTimeout: config.signalTimeoutMs });
  // Plugins: e.g. OpenTelemetry (src/observability/tracing.ts), which adds the tracing client interceptor.
  return new Client({
    connection,
    namespace: config.namespace,
    dataConverter: payloadDataConverter(config.payloadEncryption),
    ...(options.plugins ? { plugins: options.plugins } : {}),
  });
}

/** The worker's connection (Rust core). */
export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(config.connection);
}
