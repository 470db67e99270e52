/**
 * Child-process entry for benchmark phase (a), "ack-only": the production Hono app (createApp:
 * request id, metrics middleware, webhook route, body limit, JSON parse, token choice,
 * X-Goog-Signature verification, zod schemas, normalization, grouping by conversation) in front of
 * a gateway whose deliver() resolves at once. It is the HTTP ceiling Switchboard's webhook could
 * reach if Temporal cost nothing; it is a benchmark baseline, never a stand-in for Temporal in a
 * test. Configured like src/server.ts, from the same environment.
 */
import { serve } from '@hono/node-server';

import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient, conversationsClientOptionsFromConfig } from '../../src/temporal-client/conversations';

/** Accepts every delivery without calling Temporal. */
class AckOnlyGateway extends ConversationsClient {
  override async deliver(): Promise<void> {
    // Deliberately nothing: the phase measures everything but the signal.
  }

  override async isReachable(): Promise<boolean> {
    return true;
  }
}

function main(): void {
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL, { service: 'api-ack-only' }, { format: config.env.LOG_FORMAT });
  // Lazy: never connects, since nothing here calls Temporal.
  const client = createLazyClient(config.temporal);
  const conversations = new AckOnlyGateway(conversationsClientOptionsFromConfig(config, client));
  const app = createApp({ config, conversations, logger });
  const server = serve({ fetch: app.fetch, hostname: config.env.API_HOST, port: config.env.API_PORT });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
