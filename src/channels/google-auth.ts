/**
 * Service-account key → OAuth access token, through google-auth-library's JWT client (the auth
 * layer of the googleapis family; googleapis itself has no RBM or Business Messages client, so
 * the API calls are hand-written REST and only the token comes from the library).
 *
 * The library signs the RS256 assertion, caches the token and refreshes it before it expires.
 * Two things it does not do on its own, done here:
 * - honour the key's `token_uri` (or GOOGLE_TOKEN_URI): gtoken always posts to Google's token URL
 *   with that URL as the JWT audience, so the audience is overridden through `additionalClaims`
 *   and the request is redirected by a request interceptor on the client's own transporter;
 * - leave retrying to Temporal: the transporter's built-in retries are switched off and token
 *   errors are classified like any other API answer (failures.ts).
 */
import { readFile } from 'node:fs/promises';

import { gaxios, JWT } from 'google-auth-library';

import { FailureType } from '../domain/errors';
import { errorDetail, failureForNetworkError, failureForStatus, permanentFailure } from './failures';

/** Google's OAuth token endpoint (what a downloaded key's token_uri says). */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const RBM_SCOPE = 'https://www.googleapis.com/auth/rcsbusinessmessaging';
export const BM_SCOPE = 'https://www.googleapis.com/auth/businessmessages';

/** The fields of a service-account JSON key that the token flow uses. */
export interface ServiceAccountKey {
  type?: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** Gives out a valid bearer token; `invalidate` makes the next call mint a new one (after a 401). */
export interface AccessTokenSource {
  getToken(): Promise<string>;
  invalidate(): void;
}

export interface ServiceAccountTokenOptions {
  /** The key itself, or a path read on first use (so a worker may start before the simulator wrote it). */
  key: ServiceAccountKey | { file: string };
  scopes: string[];
  /** Overrides the key's token_uri (GOOGLE_TOKEN_URI). */
  tokenUri?: string;
  timeoutMs: number;
  /** Refresh this long before expiry (google-auth-library's default: 5 minutes). */
  eagerRefreshThresholdMillis?: number;
}

/** Checks a parsed key file; throws a NotConfigured failure naming what is missing. */
function parseServiceAccountKey(value: unknown, source: string): ServiceAccountKey {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof v.client_email !== 'string' || typeof v.private_key !== 'string') {
    throw permanentFailure(
      `${source} is not a service-account key (client_email and private_key are required)`,
      FailureType.NotConfigured,
    );
  }
  return {
    client_email: v.client_email,
    private_key: v.private_key,
    ...(typeof v.type === 'string' ? { type: v.type } : {}),
    ...(typeof v.private_key_id === 'string' ? { private_key_id: v.private_key_id } : {}),
    ...(typeof v.token_uri === 'string' ? { token_uri: v.token_uri } : {}),
  };
}

async function loadKey(key: ServiceAccountTokenOptions['key']): Promise<ServiceAccountKey> {
  if (!('file' in key)) return key;
  let text: string;
  try {
    text = await readFile(key.file, 'utf8');
  } catch (err) {
    throw permanentFailure(
      `cannot read the service-account key GOOGLE_APPLICATION_CREDENTIALS=${key.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      FailureType.NotConfigured,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw permanentFailure(`the service-account key ${key.file} is not JSON`, FailureType.NotConfigured);
  }
  return parseServiceAccountKey(parsed, `the service-account key ${key.file}`);
}

/** A transporter that posts token requests to `tokenUri`, over the platform fetch, and never retries by itself. */
function tokenTransporter(tokenUri: string, timeoutMs: number): gaxios.Gaxios {
  // The platform fetch, like every other outbound call (gaxios would otherwise import node-fetch).
  const transporter = new gaxios.Gaxios({ timeout: timeoutMs, fetchImplementation: fetch });
  transporter.interceptors.request.add({
    resolved: async (opts) => {
      if (opts.url.href === GOOGLE_TOKEN_URL && tokenUri !== GOOGLE_TOKEN_URL) opts.url = new URL(tokenUri);
      opts.retryConfig = { ...opts.retryConfig, retry: 0, noResponseRetries: 0 };
      return opts;
    },
  });
  return transporter;
}

function classifyTokenError(err: unknown, timeoutMs: number): unknown {
  if (err instanceof Error && err.name === 'ApplicationFailure') return err;
  const call = { operation: 'OAuth token request' };
  if (err instanceof gaxios.GaxiosError && err.response) {
    const status = err.response.status;
    const bodyText =
      typeof err.response.data === 'string' ? err.response.data : JSON.stringify(err.response.data ?? {});
    // 400 invalid_grant / 401 invalid_client: the key or the clock is wrong, a retry cannot fix it.
    if (status === 400 || status === 401) {
      const detail = errorDetail(bodyText);
      const suffix = [detail.apiStatus, detail.message].filter(Boolean).join(': ');
      return permanentFailure(
        `${call.operation} answered HTTP ${status}${suffix ? ` (${suffix})` : ''}`,
        FailureType.PermissionDenied,
      );
    }
    return failureForStatus(status, call, {}, { retryAfter: err.response.headers.get('retry-after'), bodyText });
  }
  return failureForNetworkError(err, call, timeoutMs);
}

/**
 * The production token flow: RS256-signed JWT assertion (JWT-bearer grant) exchanged at the key's
 * token_uri, cached by google-auth-library and refreshed before it expires.
 */
export function serviceAccountTokenSource(opts: ServiceAccountTokenOptions): AccessTokenSource {
  let client: Promise<JWT> | undefined;
  const build = async (): Promise<JWT> => {
    const key = await loadKey(opts.key);
    const tokenUri = opts.tokenUri ?? key.token_uri ?? GOOGLE_TOKEN_URL;
    return new JWT({
      email: key.client_email,
      key: key.private_key,
      ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
      scopes: opts.scopes,
      // gtoken puts Google's URL in `aud`; the token endpoint checks aud against itself.
      additionalClaims: { aud: tokenUri },
      transporter: tokenTransporter(tokenUri, opts.timeoutMs),
      ...(opts.eagerRefreshThresholdMillis !== undefined
        ? { eagerRefreshThresholdMillis: opts.eagerRefreshThresholdMillis }
        : {}),
    });
  };
  return {
    async getToken() {
      client ??= build();
      try {
        const { token } = await (await client).getAccessToken();
        if (!token)
          throw permanentFailure('the token endpoint answered without an access_token', FailureType.PermissionDenied);
        return token;
      } catch (err) {
        // A key that could not be loaded is re-read next time (it may be written by then).
        client = undefined;
        throw classifyTokenError(err, opts.timeoutMs);
      }
    },
    invalidate() {
      // A fresh JWT client has no cached token, so the next call mints one.
      client = undefined;
    },
  };
}
