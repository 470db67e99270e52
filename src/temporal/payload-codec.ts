/**
 * Privacy at rest: the payload codec every Temporal client and worker of Switchboard runs, so
 * message texts, phone numbers and names reach Temporal's histories (and its SQLite or PostgreSQL)
 * only as ciphertext. Codecs run outside the workflow sandbox, on the wire side of the payload
 * converter: workflow code does not change, and histories replay the same.
 *
 * Format of an encrypted payload:
 *   metadata.encoding          = `binary/encrypted`
 *   metadata.encryption-key-id = the id of the key that encrypted it (payload-keys.ts)
 *   metadata.encryption-cipher = `AES-256-GCM`
 *   data                       = 12-byte random IV ‖ ciphertext ‖ 16-byte GCM tag
 * The plaintext is the whole original payload (its metadata and data) as a protobuf Payload; the
 * key id is the GCM additional data, so relabelling a payload with another id fails its check.
 *
 * Decoding reads every key configured, and passes payloads through that carry no `binary/encrypted`
 * encoding: everything written before the codec existed (or while encryption was off) stays readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { type DataConverter, METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

import { type PayloadKey } from './payload-keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA_KEY = 'encryption-key-id';
const CIPHER_METADATA_KEY = 'encryption-cipher';
const CIPHER_NAME = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** What the codec does (config.temporal.payloadEncryption). */
export interface PayloadEncryption {
  /** Keys that decrypt; the first one also encrypts when `encrypt` is true. */
  keys: readonly PayloadKey[];
  /** False: new payloads are written in clear (PAYLOAD_ENCRYPTION=off, or development without a key). */
  encrypt: boolean;
}

/** A payload this process cannot decrypt. The message names the key id, never key material. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

/** True for a payload this codec's format encrypted. */
function isEncryptedPayload(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

/** AES-256-GCM payload codec: encrypts with the current key, decrypts with any configured key. */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Buffer>;
  private readonly current: PayloadKey | undefined;

  constructor(private readonly encryption: PayloadEncryption) {
    this.byId = new Map(encryption.keys.map((k) => [k.id, k.key]));
    this.current = encryption.encrypt ? encryption.keys[0] : undefined;
    if (encryption.encrypt && !this.current) throw new Error('payload encryption is on but no key is configured');
  }

  /** The key id new payloads are encrypted with; undefined when they are written in clear. */
  get currentKeyId(): string | undefined {
    return this.current?.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  /** Encrypts one payload (synchronous: the codec server and tests use it directly). */
  encrypt(payload: Payload): Payload {
    const key = this.current;
    // Already encrypted (e.g. the codec server asked to encode an encoded payload): never twice.
    if (!key || isEncryptedPayload(payload)) return payload;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(utf8(key.id));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA_KEY]: utf8(key.id),
        [CIPHER_METADATA_KEY]: utf8(CIPHER_NAME),
      },
      data,
    };
  }

  /** Decrypts one payload; a payload that is not encrypted comes back as it is. */
  decrypt(payload: Payload): Payload {
    if (!isEncryptedPayload(payload)) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA_KEY]);
    const cipherName = text(payload.metadata?.[CIPHER_METADATA_KEY]);
    if (cipherName !== undefined && cipherName !== CIPHER_NAME)
      throw new PayloadDecryptionError(`payload encrypted with ${cipherName}; this codec reads ${CIPHER_NAME}`);
    if (!keyId) throw new PayloadDecryptionError(`encrypted payload without the ${KEY_ID_METADATA_KEY} metadata`);
    const key = this.byId.get(keyId);
    if (!key) {
      const configured = [...this.byId.keys()];
      throw new PayloadDecryptionError(
        `payload encrypted with key ${keyId}, which is not configured (${configured.length > 0 ? `configured: ${configured.join(', ')}` : 'no keys configured'}): add it to PAYLOAD_ENCRYPTION_KEYS / PAYLOAD_ENCRYPTION_KEY_FILE`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(`encrypted payload (key ${keyId}) is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(utf8(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `payload failed its integrity check with key ${keyId} (a different key under the same id, or altered data)`,
      );
    }
    const decoded = temporal.api.common.v1.Payload.decode(plain);
    return {
      metadata: decoded.metadata,
      data: decoded.data,
      ...(decoded.externalPayloads.length > 0 ? { externalPayloads: decoded.externalPayloads } : {}),
    };
  }
}

/** The data converter of every Switchboard client and worker: default converters plus the codec. */
export function payloadDataConverter(encryption: PayloadEncryption): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(encryption)] };
}

/** One line for the start-up log: what is encrypted with which key (ids only). */
export function describePayloadEncryption(encryption: PayloadEncryption): string {
  const ids = encryption.keys.map((k) => k.id);
  if (encryption.encrypt)
    return `on: new payloads encrypted with key ${ids[0]}; ${ids.length} key(s) decrypt (${ids.join(', ')})`;
  return ids.length > 0
    ? `off: new payloads written in clear; ${ids.length} key(s) still decrypt (${ids.join(', ')})`
    : 'off: payloads written and read in clear';
}
