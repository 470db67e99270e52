/**
 * `tsx dev/simulator/main.ts`: the local Google (RBM, Business Messages, OAuth) and Twilio
 * platform as its own process. Configuration comes from src/config.ts (SIMULATOR_*, the webhook
 * client tokens, TWILIO_*); the generated service-account key is written to
 * SIMULATOR_SERVICE_ACCOUNT_FILE for the worker's GOOGLE_APPLICATION_CREDENTIALS.
 */
import path from 'node:path';

import { DEV_CLIENT_TOKEN, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { loadOrCreateServiceAccountFile } from './oauth';
import { SeededRandom } from './rng';
import { startSimulator } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const env = config.env;
  const logger = createLogger(env.LOG_LEVEL, { component: 'simulator' }, { format: env.LOG_FORMAT });
  const publicUrl = (env.SIMULATOR_PUBLIC_URL ?? `http://${env.SIMULATOR_HOST}:${env.SIMULATOR_PORT}`).replace(
    /\/+$/,
    '',
  );
  const keyFile = path.resolve(env.SIMULATOR_SERVICE_ACCOUNT_FILE);
  // Its own stream, so whether the key was generated or reused does not shift the simulator's ids.
  const { account, created } = loadOrCreateServiceAccountFile(
    keyFile,
    `${publicUrl}/token`,
    new SeededRandom(env.SIMULATOR_SEED ^ 0x5eed),
  );
  const webhookBaseUrl = env.SIMULATOR_WEBHOOK_BASE_URL ?? [`http://${env.API_HOST}:${env.API_PORT}`];

  const running = await startSimulator({
    host: env.SIMULATOR_HOST,
    port: env.SIMULATOR_PORT,
    publicUrl,
    seed: env.SIMULATOR_SEED,
    webhookBaseUrl,
    rbmClientToken: config.webhookTokens.rbm.default ?? DEV_CLIENT_TOKEN,
    rbmClientTokens: config.webhookTokens.rbm.byAgent,
    bmClientToken: config.webhookTokens.bm.default ?? DEV_CLIENT_TOKEN,
    bmClientTokens: config.webhookTokens.bm.byAgent,
    account,
    defaults: { deliverAfterMs: env.SIMULATOR_DELIVER_AFTER_MS, readAfterMs: env.SIMULATOR_READ_AFTER_MS },
    webhookRetry: { maxAttempts: env.SIMULATOR_WEBHOOK_MAX_ATTEMPTS, baseDelayMs: env.SIMULATOR_WEBHOOK_RETRY_BASE_MS },
    ...(env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN
      ? { twilio: { accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN } }
      : {}),
    rbmAgentId: env.RBM_AGENT_ID,
    ...(env.HANDOFF_SECRET ? { handoffSecret: env.HANDOFF_SECRET } : {}),
    ...(env.AUTH_CODE_SECRET ? { authCodeSecret: env.AUTH_CODE_SECRET } : {}),
    logger,
  });
  logger.info('simulator listening', {
    url: running.url,
    publicUrl,
    controlApi: `${publicUrl}/sim`,
    serviceAccountFile: keyFile,
    serviceAccountKey: created ? 'generated' : 'reused',
    webhooks: webhookBaseUrl.map((base) => `${base}/webhooks/{rbm,bm}`).join(' '),
    handoffDesk: `${publicUrl}/desk/handoffs`,
    authCodeConsumer: `${publicUrl}/desk/auth-codes`,
    seed: env.SIMULATOR_SEED,
  });

  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  console.error(
    code === 'EADDRINUSE' ? 'The simulator port is taken: set SIMULATOR_PORT or stop whatever listens there.' : err,
  );
  process.exit(1);
});
