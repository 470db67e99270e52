/**
 * X-Goog-Signature: known-answer vectors computed outside this project's code, and the one form
 * the header may take. The vectors were computed at authoring time with OpenSSL 3.0:
 *
 *   printf '%s' "$MESSAGE" | openssl dgst -sha512 -hmac "$KEY" -binary | base64 -w0
 *
 * and the first is RFC 4231's HMAC-SHA-512 test case 2 (its hex digest, 164b7a7b…38bce737), so a
 * bug shared by the signing and verifying side of this code cannot pass them.
 */
import { computeSignature, isSignatureForm, verifySignature } from '../../src/channels/signature';

const VECTORS = [
  // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
  {
    key: 'Jefe',
    message: 'what do ya want for nothing?',
    signature: 'Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw==',
  },
  // An RBM event's decoded message.data.
  {
    key: 'kat-client-token',
    message: '{"senderPhoneNumber":"+14155550100","agentId":"a@rbm.goog","messageId":"m-1","text":"hi"}',
    signature: 'ekLoxLXruMFNEdytKlguQyoD43owBhtOFbQddQjD2zitKD+/CUMZmGugCBqraXnZRzgd5x8EjKC2zXc57FtCag==',
  },
  // A Business Messages raw body with non-ASCII text (UTF-8 bytes are signed).
  {
    key: 'kat-client-token',
    message: '{"conversationId":"c-1","requestId":"r-1","message":{"messageId":"u-1","text":"Grüße ✓"}}',
    signature: 't6z7rP4K/EpF6mLpWRqC8tDWOzEVUNar0Rw2mLn2PoL3hTxkQKKwawn9SOnDT23L5uUNNlK71glfPt7AVMdn+A==',
  },
  // The empty message.
  {
    key: 'kat-client-token',
    message: '',
    signature: 'VLcmSnFHptrggbgQzaxh77+JvJ1ML40cn0snXzeGVHM5ilN9vCrN7VZH3M6YKzPHdvaSlbej89vYQS7EhCiFpA==',
  },
];

describe('known-answer vectors (OpenSSL, RFC 4231)', () => {
  test.each(VECTORS.map((v) => [v.message.slice(0, 40), v] as const))('%s', (_name, v) => {
    expect(computeSignature(v.key, Buffer.from(v.message, 'utf8'))).toBe(v.signature);
    expect(verifySignature(v.key, Buffer.from(v.message, 'utf8'), v.signature)).toBe(true);
    expect(verifySignature(`${v.key}x`, Buffer.from(v.message, 'utf8'), v.signature)).toBe(false);
    expect(verifySignature(v.key, Buffer.from(`${v.message} `, 'utf8'), v.signature)).toBe(false);
  });
});

describe('the header is exactly base64 of 64 bytes', () => {
  const good = VECTORS[1]!;
  const bytes = Buffer.from(good.message, 'utf8');
  const url = good.signature.replace(/\+/g, '-').replace(/\//g, '_');

  test.each([
    ['trailing junk', `${good.signature}AAAA`],
    ['a trailing space', `${good.signature} `],
    ['a leading space', ` ${good.signature}`],
    ['a newline', `${good.signature}\n`],
    ['base64url', url],
    ['no padding', good.signature.replace(/=+$/, '')],
    ['two headers joined by the HTTP layer', `${good.signature}, ${good.signature}`],
    ['hex of the digest', Buffer.from(good.signature, 'base64').toString('hex')],
    ['63 bytes', Buffer.from(good.signature, 'base64').subarray(0, 63).toString('base64')],
    ['65 bytes', Buffer.concat([Buffer.from(good.signature, 'base64'), Buffer.from([0])]).toString('base64')],
    [
      'the right length with a character base64 decoding skips',
      `${good.signature.slice(0, 40)}.${good.signature.slice(41)}`,
    ],
    [
      'non-canonical last character (same bytes when decoded leniently)',
      `${good.signature.slice(0, 85)}${String.fromCharCode(good.signature.charCodeAt(85) + 1)}==`,
    ],
  ])('%s is refused', (_name, header) => {
    expect(isSignatureForm(header)).toBe(false);
    expect(verifySignature(good.key, bytes, header)).toBe(false);
  });

  test('only the exact form verifies', () => {
    expect(isSignatureForm(good.signature)).toBe(true);
    expect(verifySignature(good.key, bytes, good.signature)).toBe(true);
  });
});
