/**
 * The keys of the payload codec (src/temporal/payload-codec.ts): parsed from configuration
 * (PAYLOAD_ENCRYPTION_KEYS or the file PAYLOAD_ENCRYPTION_KEY_FILE names), never from code.
 *
 * Format, the same for the variable and the file: entries `keyId:base64key`, separated by commas or
 * new lines; in a file, lines starting with `#` are comments. The FIRST entry is the current key
 * (it encrypts); every entry decrypts. Rotation: add the new key at the end everywhere (it then
 * only decrypts), then move it to the front (it then encrypts); drop the old one only once no
 * history that it encrypted is still kept (the namespace's retention for closed runs, and no open
 * run started before the rotation).
 *
 * Error messages name the entry and its key id, never key material.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One AES-256 key and the id written next to every payload it encrypts. */
export interface PayloadKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** Bytes of an AES-256 key. */
const PAYLOAD_KEY_BYTES = 32;

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** A key list that cannot be used; the message is safe to log (no key material). */
export class PayloadKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadKeyError';
  }
}

/** Parses a key list (see the module header); throws PayloadKeyError. At least one key. */
export function parsePayloadKeys(text: string): PayloadKey[] {
  const entries = text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new PayloadKeyError('no keys: expected entries of the form keyId:base64key');
  const keys: PayloadKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const at = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new PayloadKeyError(`${at}: expected keyId:base64key`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id))
      throw new PayloadKeyError(
        `${at}: the key id must be 1–64 letters, digits, '.', '_' or '-' (starting with a letter or digit)`,
      );
    if (!BASE64.test(encoded)) throw new PayloadKeyError(`${at} (key id ${id}): the key is not base64`);
    const key = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length !== PAYLOAD_KEY_BYTES)
      throw new PayloadKeyError(
        `${at} (key id ${id}): the key must be ${PAYLOAD_KEY_BYTES} bytes (AES-256), it has ${key.length}`,
      );
    if (keys.some((k) => k.id === id)) throw new PayloadKeyError(`${at}: key id ${id} appears twice`);
    keys.push({ id, key });
  }
  return keys;
}

/** A new random key as one key-list entry, `keyId:base64key` (default id: `key-` and today's date). */
export function generatePayloadKeyEntry(id: string = `key-${new Date().toISOString().slice(0, 10)}`): string {
  if (!KEY_ID.test(id)) throw new PayloadKeyError(`invalid key id ${id}`);
  return `${id}:${randomBytes(PAYLOAD_KEY_BYTES).toString('base64')}`;
}

/**
 * `npm start`'s development key: creates `file` (mode 0600) with one new key if it does not exist;
 * an existing file is kept as it is, so what the dev server's SQLite file holds stays readable.
 * Returns whether it created the file.
 */
export function ensureDevPayloadKeyFile(file: string): boolean {
  if (existsSync(file)) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  const header = [
    '# Payload encryption keys of `npm start` (PAYLOAD_ENCRYPTION_KEY_FILE). Development only.',
    '# One keyId:base64key per line; the first line encrypts, every line decrypts.',
    '# Deleting this file makes what .data/temporal/dev.sqlite holds unreadable.',
  ];
  writeFileSync(
    file,
    `${header.join('\n')}\n${generatePayloadKeyEntry(`dev-${new Date().toISOString().slice(0, 10)}`)}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  return true;
}

/** Reads and parses a key file; throws PayloadKeyError (an unreadable file included). */
export function readPayloadKeyFile(file: string): PayloadKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PayloadKeyError(`cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parsePayloadKeys(text);
}
