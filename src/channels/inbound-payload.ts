/**
 * What the two channels' inbound modules share: the result of reading one webhook payload, the
 * zod helpers for Google's loosely typed JSON (proto3 JSON may carry numbers and booleans as
 * strings), and field-path formatting for 400 answers.
 */
import { createHash } from 'node:crypto';

import { z } from 'zod';

import { type ConversationKey } from '../domain/conversation-key';
import { type InboundEvent } from '../domain/inbound';

/** One schema problem, named by the path of the offending field in the body Google sent. */
export interface FieldProblem {
  /** Dotted path from the body's root, e.g. `message.data.location.latitude` or `receipts.receipts[2].message`. */
  field: string;
  message: string;
}

/**
 * A credential a user sent (a Business Messages sign-in's authorization code): the API hands it
 * to its consumer and drops it; it is never part of an event, so it never reaches Temporal.
 */
export interface InboundCredential {
  /** The event it belongs to (its dedupeKey: the delivery's requestId), whose codeOutcome the hand-over decides. */
  dedupeKey: string;
  conversationKey: ConversationKey;
  /** The agent the (verified) payload names. */
  agent?: string;
  code: string;
  redirectUri?: string;
}

/** What a channel made of one signature-verified payload. */
export type InboundInterpretation =
  /** A known kind: the events to hand to the conversations (each carries its conversation key), and the credentials that ride apart. */
  | { outcome: 'events'; kind: string; events: InboundEvent[]; credentials?: InboundCredential[] }
  /** A payload kind this build does not know: kept for an operator, never dropped. */
  | { outcome: 'unrecognized'; kind: string; reason: string }
  /** A known kind that breaks its schema (kept for an operator like an unrecognized one). */
  | { outcome: 'invalid'; kind: string; problems: FieldProblem[] }
  /** A known kind that concerns no conversation (an RBM agent launch event): acknowledged and logged with these fields. */
  | { outcome: 'notice'; kind: string; fields: Record<string, string> };

/** A parsed body, opened just far enough to know which bytes are signed and which client token to use. */
export interface OpenedPayload {
  /** The bytes X-Goog-Signature covers: decoded `message.data` for RBM, the raw body for Business Messages. */
  signedBytes: Uint8Array;
  /** Agent named by the (still unverified) payload; used only to pick the client token. */
  agentHint?: string;
  /** Reads the payload; call only after the signature over signedBytes was verified. */
  interpret(receivedAt: string): InboundInterpretation;
}

/** `ok: false` only when the body holds no bytes a signature could cover (an RBM body without base64 `message.data`). */
export type OpenResult = { ok: true; payload: OpenedPayload } | { ok: false; problems: FieldProblem[] };

/** Stands for the JSON parse of a body that is not JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** A channel's inbound reader: from the raw body and its JSON parse (NOT_JSON when it does not parse) to an opened payload. */
export type InboundReader = (json: unknown, raw: Uint8Array) => OpenResult;

/** The JSON parse of UTF-8 bytes, or NOT_JSON. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** `a.b[2].c` from a zod issue path, under an optional prefix. */
function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out.length === 0 ? String(part) : `.${String(part)}`;
  }
  return out.length === 0 ? '(body)' : out;
}

/** Every issue of a failed parse as field problems (first ten: enough to fix a payload, bounded for hostile ones). */
function problemsOf(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.slice(0, 10).map((issue) => ({ field: formatPath(issue.path, prefix), message: issue.message }));
}

/** Parses with a schema, reporting failures as field problems under a prefix. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  prefix = '',
): { ok: true; value: z.output<T> } | { ok: false; problems: FieldProblem[] } {
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problems: problemsOf(parsed.error, prefix) };
}

const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** A JSON number, or a numeric string (proto3 JSON writes 64-bit integers, and may write floats, as strings). */
export const numberish = z.union([z.number(), z.string().regex(NUMERIC).transform(Number)], {
  error: 'must be a number',
});

/** A JSON boolean, or "true" / "false". */
export const boolish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], {
  error: 'must be a boolean',
});

/** Ids Google assigns (messageId, eventId, requestId): bounded so a hostile payload cannot bloat workflow history. */
export const googleId = z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters');

/** An RFC 3339 time as Google writes it; kept as text (Google varies the fraction precision). */
export const timestamp = z.string().max(64, 'must be at most 64 characters');

/** Short printable label for an unknown discriminator value (logs, memo): never echoes arbitrary input. */
export function label(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : 'other';
}

/** A plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Hex SHA-256 of bytes or text, first `length` characters: deterministic last-resort dedupe keys and payload ids. */
export function digest(input: Uint8Array | string, length = 32): string {
  return createHash('sha256').update(input).digest('hex').slice(0, length);
}
