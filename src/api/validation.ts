/**
 * Input rules of the operator API, shared by its routes and its OpenAPI document (so a generated
 * client or a fuzzer sends what the API accepts): conversation keys validated the way the
 * webhooks validate the fields they are built from, JSON bodies parsed against zod schemas.
 */
import { type Context } from 'hono';
import { z } from 'zod';

import { bmConversationId } from '../channels/bm/inbound-schema';
import { rbmAgentId, rbmPhoneNumber } from '../channels/rbm/inbound-schema';
import { type Channel, type ConversationKey } from '../domain/conversation-key';
import { ApiError } from './errors';

/** Largest JSON body the /v1 routes read (a rich card included); Google's own message limits are far below it. */
export const OPERATOR_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * A conversation key as the webhooks build them: `rbm:{agentId}:{E.164}` (agentId 1 to 256
 * printable ASCII characters, as RBM webhooks accept) or `bm:{conversationId}` (1 to 256 printable
 * ASCII characters without `/`). So a key is at most 277 characters, well inside Temporal's 1,000
 * character workflow ID limit.
 */
export const CONVERSATION_KEY_PATTERN =
  '^(rbm:[\\x21-\\x7e]{1,256}:\\+[1-9][0-9]{6,14}|bm:[\\x21-\\x2e\\x30-\\x7e]{1,256})$';
/** Longest valid key. */
export const CONVERSATION_KEY_MAX_LENGTH = 4 + 256 + 1 + 16;
const KEY = new RegExp(CONVERSATION_KEY_PATTERN);

/** The key from the path (URL-decoded by the router), validated; 400 naming what is wrong otherwise. */
export function conversationKeyParam(raw: string | undefined): { key: ConversationKey; channel: Channel } {
  const key = raw ?? '';
  const fail = (reason: string): never => {
    throw new ApiError(400, 'invalid_conversation_key', `invalid conversation key: ${reason}`, { field: 'key' });
  };
  if (key.length > CONVERSATION_KEY_MAX_LENGTH) fail(`at most ${CONVERSATION_KEY_MAX_LENGTH} characters`);
  if (!KEY.test(key)) {
    if (key.startsWith('rbm:')) {
      const sep = key.lastIndexOf(':');
      if (sep <= 4) fail('expected rbm:{agentId}:{E.164 number}');
      if (!rbmAgentId.safeParse(key.slice(4, sep)).success)
        fail('the agent id must be 1 to 256 printable ASCII characters without spaces');
      if (!rbmPhoneNumber.safeParse(key.slice(sep + 1)).success) fail('the number must be E.164, e.g. +14155550100');
    }
    if (key.startsWith('bm:') && !bmConversationId.safeParse(key.slice(3)).success)
      fail('the conversationId must be 1 to 256 printable ASCII characters without "/" or spaces');
    fail('must be rbm:{agentId}:{E.164 number} or bm:{conversationId}');
  }
  return { key, channel: key.startsWith('rbm:') ? 'rbm' : 'bm' };
}

/** Text that may reach a Temporal visibility query or a search attribute: no control characters (a NUL hangs SQLite visibility). */
const PRINTABLE_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';
/** A string of 1 to `max` characters without control characters. */
export const printable = (max: number) =>
  z.string().min(1).max(max).regex(new RegExp(PRINTABLE_PATTERN), { message: 'must not contain control characters' });

/** Parses a JSON body against a schema; 400 naming the first bad field otherwise. */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(body)';
    throw new ApiError(400, 'invalid_body', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  return parsed.data;
}
