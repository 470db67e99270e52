import { serve } from '@hono/node-server';

import { createApp } from './api/app';
import { loadConfig, requirePayloadEncryption, requireProductionConfig } from './config';
import { createLogger } from './logger';
import { tracingFromConfig } from './observability/tracing';
import { createLazyClient } from './temporal/connections';
import { describePayloadEncryption } from './temporal/payload-codec';
import { ConversationsClient, conversationsClientOptionsFromConfig } from './temporal-client/conversations';
import { UnrecognizedPayloadStore } from './temporal-client/unrecognized-payload-store';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL, { service: 'api' }, { format: config.env.LOG_FORMAT });
  requirePayloadEncryption(config);
  requireProductionConfig(config, 'api');
  const tracing = tracingFromConfig(config.env, 'switchboard-api');
  const client = createLazyClient(config.temporal, tracing ? { plugins: [tracing.plugin] } : {});
  const conversations = new ConversationsClient(conversationsClientOptionsFromConfig(config, client));
  // One Temporal client for the conversations and the unrecognized-payload store.
  const unrecognizedPayloads = new UnrecognizedPayloadStore({
    client,
    taskQueue: config.temporal.taskQueue,
    timeoutMs: config.temporal.signalTimeoutMs,
    retentionMs: config.env.UNRECOGNIZED_PAYLOAD_RETENTION_DAYS * 86_400_000,
  });
  const app = createApp({ config, conversations, logger, unrecognizedPayloads });
  const server = serve({ fetch: app.fetch, hostname: config.env.API_HOST, port: config.env.API_PORT }, (info) =>
    logger.info('api listening', {
      address: `http://${info.address}:${info.port}`,
      payloadEncryption: describePayloadEncryption(config.temporal.payloadEncryption),
      codecServer: config.codecServer.token ? 'on (/codec)' : 'off',
    }),
  );
  if (!config.temporal.payloadEncryption.encrypt)
    logger.warn('payload encryption is off: message texts and phone numbers reach Temporal in clear', {
      mode: config.mode,
      PAYLOAD_ENCRYPTION: config.env.PAYLOAD_ENCRYPTION,
    });
  // Workflow IDs cannot be encrypted: with this on, full numbers are in Temporal (and its UI) in clear.
  if (config.env.WORKFLOW_ID_REVEAL_PHONE)
    logger.warn(
      'WORKFLOW_ID_REVEAL_PHONE is on: workflow IDs carry full phone numbers, which payload encryption cannot cover',
    );
  const shutdown = () => {
    server.close(
      () => void Promise.allSettled([client.connection.close(), tracing?.shutdown()]).finally(() => process.exit(0)),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
