/**
 * The simulator's OAuth side: a service-account key it generates (and writes for the worker to
 * use as GOOGLE_APPLICATION_CREDENTIALS), validation of the RS256 JWT assertion of the
 * JWT-bearer grant against that key's public half, and the access tokens it hands out and later
 * checks on every RBM / Business Messages call. The key is generated at run time (never
 * committed); its private half exists only in the key file and in memory.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type SeededRandom } from './rng';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SIM_PROJECT = 'switchboard-sim';

/** A Google-format service-account key file. */
export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
}

export interface SimServiceAccount {
  key: ServiceAccountKeyFile;
  publicKey: KeyObject;
}

/** A fresh RSA-2048 key in Google's key-file format, pointing its token_uri at `tokenUri`. */
export function generateServiceAccount(random: SeededRandom, tokenUri: string): SimServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key: ServiceAccountKeyFile = {
    type: 'service_account',
    project_id: SIM_PROJECT,
    private_key_id: random.hex(40),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: `switchboard@${SIM_PROJECT}.iam.gserviceaccount.com`,
    client_id: String(100_000_000_000 + Math.floor(random.next() * 900_000_000_000)),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
  };
  return { key, publicKey };
}

function fromKeyFile(value: unknown): SimServiceAccount | undefined {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Partial<ServiceAccountKeyFile>;
  if (typeof v.private_key !== 'string' || typeof v.client_email !== 'string') return undefined;
  try {
    const key = { ...v, type: 'service_account' } as ServiceAccountKeyFile;
    return { key, publicKey: createPublicKey(v.private_key) };
  } catch {
    return undefined;
  }
}

/**
 * Reuses the key at `file` if it is a valid service-account key (rewriting token_uri when the
 * simulator moved), otherwise generates one and writes it (mode 0600).
 */
export function loadOrCreateServiceAccountFile(
  file: string,
  tokenUri: string,
  random: SeededRandom,
): { account: SimServiceAccount; created: boolean } {
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      parsed = undefined;
    }
    const account = fromKeyFile(parsed);
    if (account) {
      if (account.key.token_uri !== tokenUri) {
        account.key = { ...account.key, token_uri: tokenUri };
        writeFileSync(file, JSON.stringify(account.key, null, 2) + '\n', { mode: 0o600 });
      }
      return { account, created: false };
    }
  }
  const account = generateServiceAccount(random, tokenUri);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(account.key, null, 2) + '\n', { mode: 0o600 });
  return { account, created: true };
}

export interface AssertionClaims {
  iss: string;
  scope: string;
  aud: string;
  iat: number;
  exp: number;
}

export type AssertionCheck = { ok: true; claims: AssertionClaims } | { ok: false; reason: string };

const MAX_LIFETIME_S = 3600;
const SKEW_S = 60;

function decodePart(part: string | undefined): Record<string, unknown> | undefined {
  if (!part) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a JWT-bearer assertion the way Google's token endpoint does: RS256 signature by the
 * account's key, issuer = client_email, audience = the token endpoint, not expired, at most an
 * hour long, with a scope.
 */
export function verifyAssertion(
  assertion: string,
  account: SimServiceAccount,
  audiences: readonly string[],
  nowS: number = Math.floor(Date.now() / 1000),
): AssertionCheck {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'assertion is not a JWT' };
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h);
  const claims = decodePart(p);
  if (!header || !claims) return { ok: false, reason: 'assertion is not a JWT' };
  if (header.alg !== 'RS256') return { ok: false, reason: `unsupported alg ${String(header.alg)}` };
  const signatureOk = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), account.publicKey, Buffer.from(s, 'base64url'));
  if (!signatureOk) return { ok: false, reason: 'Invalid JWT Signature.' };
  const { iss, scope, aud, iat, exp } = claims;
  if (iss !== account.key.client_email) return { ok: false, reason: 'Invalid issuer' };
  if (typeof aud !== 'string' || !audiences.includes(aud))
    return { ok: false, reason: `Invalid JWT audience ${String(aud)}` };
  if (typeof iat !== 'number' || typeof exp !== 'number') return { ok: false, reason: 'iat and exp are required' };
  if (iat > nowS + SKEW_S)
    return {
      ok: false,
      reason: 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe (iat in the future)',
    };
  if (exp <= nowS - SKEW_S)
    return {
      ok: false,
      reason: 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe (expired)',
    };
  if (exp - iat > MAX_LIFETIME_S)
    return { ok: false, reason: 'Invalid JWT: Token must be a short-lived token (at most 1 hour)' };
  if (typeof scope !== 'string' || scope.trim() === '')
    return { ok: false, reason: 'Invalid scope: a scope is required' };
  return { ok: true, claims: { iss, scope, aud, iat, exp } };
}

/** Access tokens handed out by the token endpoint, checked on every API call. */
export class TokenStore {
  private readonly tokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  /** How many tokens were issued since start (tests assert caching with it). */
  issued = 0;

  constructor(private readonly random: SeededRandom) {}

  issue(scopes: string[], lifetimeS: number): { access_token: string; expires_in: number; token_type: 'Bearer' } {
    const token = `ya29.sim-${this.random.hex(40)}`;
    this.tokens.set(token, { scopes, expiresAt: Date.now() + lifetimeS * 1000 });
    this.issued++;
    return { access_token: token, expires_in: lifetimeS, token_type: 'Bearer' };
  }

  check(authorization: string | undefined, scope: string): 'ok' | 'unauthenticated' | 'insufficient_scope' {
    const match = /^Bearer (\S+)$/i.exec(authorization ?? '');
    const entry = match?.[1] ? this.tokens.get(match[1]) : undefined;
    if (!entry || entry.expiresAt <= Date.now()) return 'unauthenticated';
    return entry.scopes.includes(scope) ? 'ok' : 'insufficient_scope';
  }

  /** Forgets every token: the next API call answers 401 and the client must mint a new one. */
  revokeAll(): void {
    this.tokens.clear();
  }
}
