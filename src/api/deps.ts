import { type Config } from '../config';
import { type Logger } from '../logger';
import { type ApiMetrics } from '../observability/http-metrics';
import { type ConversationsClient } from '../temporal-client/conversations';
import { type UnrecognizedPayloadStore } from '../temporal-client/unrecognized-payload-store';

/** Everything the HTTP API needs, built once by server.ts (or a test). */
export interface AppDeps {
  config: Config;
  conversations: ConversationsClient;
  logger: Logger;
  /** Prometheus registry and middleware for GET /metrics; one is created per app when absent. */
  metrics?: ApiMetrics;
  /** Where signed payloads of unknown kinds are kept; built on its own lazy client when absent. */
  unrecognizedPayloads?: UnrecognizedPayloadStore;
}
