/**
 * The payload codec and its keys, without Temporal: AES-256-GCM with a fresh IV per payload, the
 * key id in the metadata, several keys (decrypt with any, encrypt with the first), payloads from
 * before the codec passed through, tampering and unknown keys refused with messages that carry
 * no key material; the key list parser and the production rule of src/config.ts.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { defaultPayloadConverter, type Payload } from '@temporalio/common';

import { ConfigError, loadConfig, requirePayloadEncryption } from '../../src/config';
import {
  AesGcmPayloadCodec,
  describePayloadEncryption,
  ENCRYPTED_ENCODING,
  PayloadDecryptionError,
} from '../../src/temporal/payload-codec';
import {
  ensureDevPayloadKeyFile,
  generatePayloadKeyEntry,
  parsePayloadKeys,
  PayloadKeyError,
} from '../../src/temporal/payload-keys';

const SECRET_TEXT = 'my card number is 4111 1111 1111 1111';
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value) as Payload;
const meta = (p: Payload, key: string) =>
  p.metadata?.[key] ? Buffer.from(p.metadata[key]).toString('utf8') : undefined;
const bytes = (p: Payload) =>
  Buffer.concat([
    ...Object.values(p.metadata ?? {}).map((v) => Buffer.from(v)),
    Buffer.from(p.data ?? new Uint8Array()),
  ]);

const OLD = generatePayloadKeyEntry('k-2026-01');
const NEW = generatePayloadKeyEntry('k-2026-06');
const keys = (...entries: string[]) => parsePayloadKeys(entries.join(','));

describe('AesGcmPayloadCodec', () => {
  test('encrypts: no plaintext left, the key id and cipher in the metadata, and it decodes back to the same payload', async () => {
    const codec = new AesGcmPayloadCodec({ keys: keys(OLD), encrypt: true });
    const original = plain({ text: SECRET_TEXT, phone: '+14155550123' });
    const [encrypted] = await codec.encode([original]);
    expect(meta(encrypted as Payload, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(encrypted as Payload, 'encryption-key-id')).toBe('k-2026-01');
    expect(meta(encrypted as Payload, 'encryption-cipher')).toBe('AES-256-GCM');
    const raw = bytes(encrypted as Payload).toString('latin1');
    expect(raw).not.toContain('4111');
    expect(raw).not.toContain('14155550123');
    expect(raw).not.toContain('json/plain');
    const [decoded] = await codec.decode([encrypted as Payload]);
    expect(defaultPayloadConverter.fromPayload(decoded as Payload)).toEqual({
      text: SECRET_TEXT,
      phone: '+14155550123',
    });
    expect(meta(decoded as Payload, 'encoding')).toBe('json/plain');
  });

  test('a fresh random IV per payload: the same value never encrypts to the same bytes', async () => {
    const codec = new AesGcmPayloadCodec({ keys: keys(OLD), encrypt: true });
    const out = await codec.encode(Array.from({ length: 50 }, () => plain(SECRET_TEXT)));
    const ivs = new Set(
      out.map((p) =>
        Buffer.from(p.data ?? new Uint8Array())
          .subarray(0, 12)
          .toString('hex'),
      ),
    );
    const datas = new Set(out.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('hex')));
    expect(ivs.size).toBe(50);
    expect(datas.size).toBe(50);
  });

  test('rotation: encrypts with the first key, decrypts what a rotated-out key encrypted', async () => {
    const before = new AesGcmPayloadCodec({ keys: keys(OLD), encrypt: true });
    const after = new AesGcmPayloadCodec({ keys: keys(NEW, OLD), encrypt: true });
    const [oldPayload] = await before.encode([plain('written before the rotation')]);
    const [newPayload] = await after.encode([plain('written after the rotation')]);
    expect(meta(newPayload as Payload, 'encryption-key-id')).toBe('k-2026-06');
    const decoded = await after.decode([oldPayload as Payload, newPayload as Payload]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      'written before the rotation',
      'written after the rotation',
    ]);
    // The process that only knows the old key cannot read the new one, and says which key it lacks.
    await expect(before.decode([newPayload as Payload])).rejects.toThrow(
      /key k-2026-06, which is not configured \(configured: k-2026-01\)/,
    );
  });

  test('payloads written before the codec existed are read as they are; encoding never encrypts twice', async () => {
    const codec = new AesGcmPayloadCodec({ keys: keys(OLD), encrypt: true });
    const legacy = [
      plain({ text: 'from before' }),
      plain(undefined),
      { metadata: {}, data: new Uint8Array([1, 2, 3]) },
    ];
    expect(await codec.decode(legacy)).toEqual(legacy);
    const [once] = await codec.encode([plain('x')]);
    const [twice] = await codec.encode([once as Payload]);
    expect(twice).toBe(once);
  });

  test('encryption off: written in clear, while the configured keys still read what they encrypted', async () => {
    const [encrypted] = await new AesGcmPayloadCodec({ keys: keys(OLD), encrypt: true }).encode([plain('old')]);
    const off = new AesGcmPayloadCodec({ keys: keys(OLD), encrypt: false });
    const original = plain('in clear');
    expect(await off.encode([original])).toEqual([original]);
    expect(defaultPayloadConverter.fromPayload((await off.decode([encrypted as Payload]))[0] as Payload)).toBe('old');
    expect(off.currentKeyId).toBeUndefined();
    const none = new AesGcmPayloadCodec({ keys: [], encrypt: false });
    await expect(none.decode([encrypted as Payload])).rejects.toThrow(/no keys configured/);
    expect(() => new AesGcmPayloadCodec({ keys: [], encrypt: true })).toThrow(/no key/);
  });

  test('tampered data, a relabelled key id or a different key under the same id fail the integrity check', async () => {
    const codec = new AesGcmPayloadCodec({ keys: keys(OLD, NEW), encrypt: true });
    const [encrypted] = (await codec.encode([plain(SECRET_TEXT)])) as [Payload];
    const flipped = Buffer.from(encrypted.data as Uint8Array);
    flipped[20] = (flipped[20] as number) ^ 1;
    await expect(codec.decode([{ ...encrypted, data: flipped }])).rejects.toThrow(PayloadDecryptionError);
    const relabelled = {
      ...encrypted,
      metadata: { ...encrypted.metadata, 'encryption-key-id': Buffer.from('k-2026-06') },
    };
    await expect(codec.decode([relabelled])).rejects.toThrow(/integrity check with key k-2026-06/);
    const impostor = new AesGcmPayloadCodec({ keys: keys(generatePayloadKeyEntry('k-2026-01')), encrypt: true });
    await expect(impostor.decode([encrypted])).rejects.toThrow(/integrity check/);
    await expect(codec.decode([{ ...encrypted, data: new Uint8Array(5) }])).rejects.toThrow(/truncated/);
  });

  test('error messages and the start-up description never carry key material', async () => {
    const parsed = keys(OLD, NEW);
    const material = parsed.map((k) => k.key.toString('base64'));
    const messages: string[] = [
      describePayloadEncryption({ keys: parsed, encrypt: true }),
      describePayloadEncryption({ keys: parsed, encrypt: false }),
    ];
    const other = new AesGcmPayloadCodec({ keys: keys(generatePayloadKeyEntry('other')), encrypt: true });
    const [foreign] = (await other.encode([plain('x')])) as [Payload];
    await new AesGcmPayloadCodec({ keys: parsed, encrypt: true })
      .decode([foreign])
      .catch((err: Error) => messages.push(err.message));
    expect(messages).toHaveLength(3);
    for (const m of messages) for (const k of material) expect(m).not.toContain(k);
    expect(messages[0]).toBe('on: new payloads encrypted with key k-2026-01; 2 key(s) decrypt (k-2026-01, k-2026-06)');
  });
});

describe('payload key lists', () => {
  test('entries by comma or line, comments skipped, standard or URL-safe base64; the first is current', () => {
    const key = Buffer.alloc(32, 7);
    const parsed = parsePayloadKeys(
      `# current first\nnew:${key.toString('base64url')}\n\nold:${key.toString('base64')} , older:${key.toString('base64')}`,
    );
    expect(parsed.map((k) => k.id)).toEqual(['new', 'old', 'older']);
    for (const k of parsed) expect(k.key.equals(key)).toBe(true);
  });

  test.each([
    ['', /no keys/],
    ['justakey', /entry 1: expected keyId:base64key/],
    [`bad id:${Buffer.alloc(32).toString('base64')}`, /key id must be/],
    ['k1:not base64!', /entry 1 \(key id k1\): the key is not base64/],
    [`k1:${Buffer.alloc(16).toString('base64')}`, /must be 32 bytes \(AES-256\), it has 16/],
    [
      `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`,
      /key id k1 appears twice/,
    ],
  ])('refuses %j', (text, message) => {
    expect(() => parsePayloadKeys(text)).toThrow(PayloadKeyError);
    expect(() => parsePayloadKeys(text)).toThrow(message);
  });

  test("npm start's dev key file: created once with mode 0600, then left alone", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchboard-keys-'));
    try {
      const file = path.join(dir, 'dev', 'payload-keys');
      expect(ensureDevPayloadKeyFile(file)).toBe(true);
      const first = readFileSync(file, 'utf8');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(parsePayloadKeys(first)).toHaveLength(1);
      expect(ensureDevPayloadKeyFile(file)).toBe(false);
      expect(readFileSync(file, 'utf8')).toBe(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('configuration of payload encryption', () => {
  test('keys from PAYLOAD_ENCRYPTION_KEYS or a key file; encrypting needs a key and PAYLOAD_ENCRYPTION=on', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchboard-keys-'));
    try {
      const file = path.join(dir, 'keys');
      writeFileSync(file, `# rotated\n${NEW}\n${OLD}\n`);
      expect(loadConfig({ PAYLOAD_ENCRYPTION_KEY_FILE: file }).temporal.payloadEncryption).toMatchObject({
        encrypt: true,
        keys: [{ id: 'k-2026-06' }, { id: 'k-2026-01' }],
      });
      expect(
        loadConfig({ PAYLOAD_ENCRYPTION_KEYS: OLD, PAYLOAD_ENCRYPTION: 'off' }).temporal.payloadEncryption,
      ).toMatchObject({ encrypt: false, keys: [{ id: 'k-2026-01' }] });
      expect(loadConfig({}).temporal.payloadEncryption).toEqual({ encrypt: false, keys: [] });
      expect(() => loadConfig({ PAYLOAD_ENCRYPTION_KEYS: OLD, PAYLOAD_ENCRYPTION_KEY_FILE: file })).toThrow(/not both/);
      expect(() => loadConfig({ PAYLOAD_ENCRYPTION_KEY_FILE: path.join(dir, 'missing') })).toThrow(
        /PAYLOAD_ENCRYPTION_KEY_FILE=.*missing: cannot read it \(ENOENT\)/,
      );
      const short = `k1:${Buffer.alloc(31, 9).toString('base64')}`;
      let message = '';
      try {
        loadConfig({ PAYLOAD_ENCRYPTION_KEYS: short });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^PAYLOAD_ENCRYPTION_KEYS: entry 1 \(key id k1\)/);
      expect(message).not.toContain(Buffer.alloc(31, 9).toString('base64'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('production refuses to run without a key unless encryption is turned off on purpose; development runs in clear', () => {
    expect(loadConfig({}).mode).toBe('production');
    expect(() => requirePayloadEncryption(loadConfig({}))).toThrow(ConfigError);
    expect(() => requirePayloadEncryption(loadConfig({}))).toThrow(
      /SWITCHBOARD_MODE=production needs payload encryption keys: set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE/,
    );
    expect(() => requirePayloadEncryption(loadConfig({ PAYLOAD_ENCRYPTION_KEYS: OLD }))).not.toThrow();
    expect(() => requirePayloadEncryption(loadConfig({ PAYLOAD_ENCRYPTION: 'off' }))).not.toThrow();
    expect(() => requirePayloadEncryption(loadConfig({ SWITCHBOARD_MODE: 'development' }))).not.toThrow();
    expect(() => loadConfig({ SWITCHBOARD_MODE: 'staging' })).toThrow(/SWITCHBOARD_MODE/);
    expect(() => loadConfig({ PAYLOAD_ENCRYPTION: 'maybe' })).toThrow(/PAYLOAD_ENCRYPTION/);
  });

  test('codec server: a token of at least 16 characters, CORS origins without paths', () => {
    expect(
      loadConfig({
        CODEC_SERVER_TOKEN: 'a-codec-token-0123',
        CODEC_SERVER_CORS_ORIGINS: 'http://localhost:8233, https://ui.example.com',
      }).codecServer,
    ).toEqual({ token: 'a-codec-token-0123', corsOrigins: ['http://localhost:8233', 'https://ui.example.com'] });
    expect(() => loadConfig({ CODEC_SERVER_TOKEN: 'short' })).toThrow(/CODEC_SERVER_TOKEN/);
    expect(() => loadConfig({ CODEC_SERVER_CORS_ORIGINS: 'http://localhost:8233/ui' })).toThrow(
      /CODEC_SERVER_CORS_ORIGINS: http:\/\/localhost:8233\/ui is not an origin/,
    );
  });
});
