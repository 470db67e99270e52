import { createHmac, timingSafeEqual } from 'node:crypto';

/** base64(HMAC-SHA512(clientToken, bytes)): Google's X-Goog-Signature. */
export function computeSignature(clientToken: string, bytes: Uint8Array | string): string {
  return createHmac('sha512', clientToken).update(bytes).digest('base64');
}

/** Constant-time check of an X-Goog-Signature header against the bytes it should sign. */
export function verifySignature(clientToken: string, bytes: Uint8Array | string, header: string | undefined | null): boolean {
  if (!header) return false;
  const expected = Buffer.from(computeSignature(clientToken, bytes), 'base64');
  const given = Buffer.from(header.trim(), 'base64');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
