import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Hono } from 'hono';
import { z } from 'zod';

import { type ConversationKey } from '../domain/conversation-key';
import { ErasureIncompleteError } from '../temporal-client/erasure';
import { agentTypingUpdate, assignUpdate, markReadUpdate } from '../workflows/definitions';
import { type AppDeps } from './deps';
import { ApiError } from './errors';
import { conversationKeyParam, parseJsonBody, printable } from './validation';

/** Exported for the OpenAPI document (src/api/openapi.ts). */
/**
 * Filters match search attributes the webhooks fill from validated fields (locale and place as
 * Business Messages sends them, queue from the routing file): the same limits, and no control
 * characters, which would otherwise reach Temporal's visibility query. Exported for the OpenAPI document.
 */
export const listQuery = z.object({
  channel: z.enum(['rbm', 'bm']).optional(),
  status: z.enum(['automation', 'waiting_for_agent', 'with_agent', 'closed']).optional(),
  locale: printable(64).optional(),
  place: printable(512).optional(),
  queue: printable(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
/** A human agent's id as the desk knows it. */
const agentId = printable(256);
/** Exported for the OpenAPI document (src/api/openapi.ts). */
export const markReadBody = z.object({ agentId, messageIds: z.array(printable(512)).min(1).max(500).optional() });
/** Exported for the OpenAPI document (src/api/openapi.ts). */
export const typingBody = z.object({ agentId, typing: z.boolean() });
/** Exported for the OpenAPI document (src/api/openapi.ts). */
export const assignBody = z.discriminatedUnion('to', [
  z.object({ to: z.literal('human'), agentId, displayName: printable(100).optional() }),
  z.object({ to: z.literal('automation') }),
]);

/** The key from the path (URL-encoded by the caller), validated. */
function keyParam(raw: string | undefined): ConversationKey {
  return conversationKeyParam(raw).key;
}

/** Maps Temporal's answers for a conversation call onto the API's status contract. */
async function onConversation<T>(key: ConversationKey, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new ApiError(404, 'conversation_not_found', `no open conversation for ${key}`);
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      throw new ApiError(422, 'rejected_by_conversation', err.cause.message, { type: err.cause.type });
    }
    throw err;
  }
}

/** /v1/conversations: state, list, mark read, agent typing, assignment, erasure. Behind bearer auth (app.ts). */
export function createConversationsApp(deps: AppDeps) {
  const app = new Hono();

  app.get('/', async (c) => {
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success)
      throw new ApiError(
        400,
        'invalid_query',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    return c.json({ conversations: await deps.conversations.list(parsed.data) });
  });

  app.get('/:key', async (c) => {
    const key = keyParam(c.req.param('key'));
    const state = await deps.conversations.getState(key);
    if (!state) throw new ApiError(404, 'conversation_not_found', `no conversation for ${key}`);
    return c.json(state);
  });

  // Erasure on request: 202 once Temporal accepted the deletion of every run; again 202 when there is nothing left.
  app.delete('/:key', async (c) => {
    const key = keyParam(c.req.param('key'));
    try {
      const erased = await deps.conversations.erase(key);
      return c.json(
        {
          key,
          workflowId: erased.workflowId,
          status: 'deletion_accepted',
          deletedRuns: erased.deletedRunIds.length,
          runIds: erased.deletedRunIds,
          terminatedRunIds: erased.terminatedRunIds,
        },
        202,
      );
    } catch (err) {
      if (err instanceof ErasureIncompleteError)
        throw new ApiError(409, 'erasure_incomplete', err.message, { deletedRuns: err.deletedRunIds.length });
      throw err;
    }
  });

  app.get('/:key/history', async (c) => {
    const key = keyParam(c.req.param('key'));
    const entries = await onConversation(key, () => deps.conversations.transcript(key));
    return c.json({ key, entries });
  });

  app.post('/:key/read', async (c) => {
    const key = keyParam(c.req.param('key'));
    const body = await parseJsonBody(c, markReadBody);
    return c.json(await onConversation(key, () => deps.conversations.update(key, markReadUpdate, body)));
  });

  app.post('/:key/typing', async (c) => {
    const key = keyParam(c.req.param('key'));
    const body = await parseJsonBody(c, typingBody);
    return c.json(await onConversation(key, () => deps.conversations.update(key, agentTypingUpdate, body)));
  });

  app.post('/:key/assign', async (c) => {
    const key = keyParam(c.req.param('key'));
    const body = await parseJsonBody(c, assignBody);
    return c.json(await onConversation(key, () => deps.conversations.update(key, assignUpdate, body)));
  });

  return app;
}
