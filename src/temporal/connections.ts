import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { type TemporalConfig } from '../config';

/**
 * A lazily connecting client for the API: the server starts even while Temporal is down, and each
 * call is bounded by the caller's deadline.
 */
export function createLazyClient(config: TemporalConfig): Client {
  const connection = Connection.lazy({ ...config.connection, connectTimeout: config.signalTimeoutMs });
  return new Client({ connection, namespace: config.namespace });
}

/** The worker's connection (Rust core). */
export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(config.connection);
}
