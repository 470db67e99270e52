/**
 * Builds the real outbound clients from configuration, once per worker. A channel whose
 * credentials are missing is left out: its activities then fail with a non-retryable
 * NotConfigured failure that names the variables to set, instead of the worker refusing to start.
 */
import { BM_DEFAULT_BASE_URL, BmClient } from '../channels/bm/client';
import { createChannelGateway } from '../channels/gateway';
import { BM_SCOPE, RBM_SCOPE, serviceAccountTokenSource } from '../channels/google-auth';
import { createHandoffNotifier } from '../channels/handoff';
import { rbmBaseUrl, RbmClient } from '../channels/rbm/client';
import { createSmsGateway } from '../channels/sms/gateway';
import { TWILIO_DEFAULT_BASE_URL, TwilioSmsProvider } from '../channels/sms/twilio';
import { type Config } from '../config';
import { type Logger } from '../logger';
import { type ActivityDeps } from './index';

export function buildActivityDeps(config: Config, logger: Logger): ActivityDeps {
  const env = config.env;
  const timeoutMs = env.OUTBOUND_HTTP_TIMEOUT_MS;
  const keyFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  const tokenSource = (scope: string) =>
    keyFile
      ? serviceAccountTokenSource({
          key: { file: keyFile },
          scopes: [scope],
          ...(env.GOOGLE_TOKEN_URI ? { tokenUri: env.GOOGLE_TOKEN_URI } : {}),
          timeoutMs,
        })
      : undefined;

  const rbmTokens = tokenSource(RBM_SCOPE);
  const bmTokens = tokenSource(BM_SCOPE);
  const rbmUrl = env.RBM_API_BASE_URL ?? rbmBaseUrl(env.RBM_REGION);
  const bmUrl = env.BM_API_BASE_URL ?? BM_DEFAULT_BASE_URL;

  const twilio =
    env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.SMS_FROM
      ? new TwilioSmsProvider({
          baseUrl: env.TWILIO_BASE_URL ?? TWILIO_DEFAULT_BASE_URL,
          accountSid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN,
          from: env.SMS_FROM,
          ...(env.SMS_STATUS_CALLBACK_URL ? { statusCallbackUrl: env.SMS_STATUS_CALLBACK_URL } : {}),
          timeoutMs,
        })
      : undefined;

  logger.info('outbound clients configured', {
    rbm: rbmTokens ? new URL(rbmUrl).origin : 'not configured',
    bm: bmTokens ? new URL(bmUrl).origin : 'not configured',
    sms: twilio ? `twilio ${new URL(env.TWILIO_BASE_URL ?? TWILIO_DEFAULT_BASE_URL).origin}` : 'not configured',
    handoff: env.HANDOFF_URL ? new URL(env.HANDOFF_URL).origin : 'not configured',
  });
  if (env.HANDOFF_URL && !env.HANDOFF_SECRET)
    logger.warn('HANDOFF_URL is set without HANDOFF_SECRET: handoff notifications will fail until it is set');

  return {
    channels: createChannelGateway({
      ...(rbmTokens ? { rbm: new RbmClient({ baseUrl: rbmUrl, tokens: rbmTokens, timeoutMs }) } : {}),
      ...(bmTokens ? { bm: new BmClient({ baseUrl: bmUrl, tokens: bmTokens, timeoutMs }) } : {}),
      ...(env.RBM_MESSAGE_TRAFFIC_TYPE ? { rbmMessageTrafficType: env.RBM_MESSAGE_TRAFFIC_TYPE } : {}),
      logger,
    }),
    sms: createSmsGateway({ ...(twilio ? { provider: twilio } : {}), sendTimeoutMs: timeoutMs, logger }),
    handoff: createHandoffNotifier({
      ...(env.HANDOFF_URL ? { url: env.HANDOFF_URL } : {}),
      ...(env.HANDOFF_SECRET ? { secret: env.HANDOFF_SECRET } : {}),
      timeoutMs,
      logger,
    }),
  };
}
