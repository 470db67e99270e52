import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The only form X-Goog-Signature takes: standard base64 (RFC 4648 §4, with padding) of the 64 bytes
 * of an HMAC-SHA512, i.e. 86 alphabet characters and `==`. Anything else (surrounding spaces,
 * base64url, missing padding, trailing junk, two headers joined by a comma) is refused unread.
 */
const SIGNATURE_FORM = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

/** base64(HMAC-SHA512(clientToken, bytes)): Google's X-Goog-Signature. */
export function computeSignature(clientToken: string, bytes: Uint8Array | string): string {
  return createHmac('sha512', clientToken).update(bytes).digest('base64');
}

/** True when the header has the exact form of an X-Goog-Signature (see SIGNATURE_FORM). */
export function isSignatureForm(header: string | undefined | null): header is string {
  return typeof header === 'string' && SIGNATURE_FORM.test(header);
}

/** Constant-time check of an X-Goog-Signature header against the bytes it should sign; false for any header not in the exact form. */
export function verifySignature(
  clientToken: string,
  bytes: Uint8Array | string,
  header: string | undefined | null,
): boolean {
  if (!isSignatureForm(header)) return false;
  const expected = createHmac('sha512', clientToken).update(bytes).digest();
  const given = Buffer.from(header, 'base64');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
