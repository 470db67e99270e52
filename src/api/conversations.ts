import { type UpdateDefinition } from '@temporalio/client';
import { Hono } from 'hono';
import { z } from 'zod';

import { type ConversationKey } from '../domain/conversation-key';
import { ErasureIncompleteError } from '../temporal-client/erasure';
import { agentTypingUpdate, assignUpdate, markReadUpdate } from '../workflows/definitions';
import { type AppDeps } from './deps';
import { ApiError, onConversation } from './errors';
import { CONVERSATION_ERRORS, documented, errorResponse, KEY_PARAM, type RouteDoc, V1_ERRORS } from './openapi';
import {
  assignmentSchema,
  conversationSummarySchema,
  conversationViewSchema,
  transcriptEntrySchema,
} from './response-schemas';
import { conversationKeyParam, parseJsonBody, printable } from './validation';

/**
 * Filters match search attributes the webhooks fill from validated fields (locale and place as
 * Business Messages sends them, queue from the routing file): the same limits, and no control
 * characters, which would otherwise reach Temporal's visibility query.
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
const markReadBody = z.object({ agentId, messageIds: z.array(printable(512)).min(1).max(500).optional() });
const typingBody = z.object({ agentId, typing: z.boolean() });
const assignBody = z.discriminatedUnion('to', [
  z.object({ to: z.literal('human'), agentId, displayName: printable(100).optional() }),
  z.object({ to: z.literal('automation') }),
]);

/** The key from the path (URL-encoded by the caller), validated. */
function keyParam(raw: string | undefined): ConversationKey {
  return conversationKeyParam(raw).key;
}

/** /v1/conversations: state, list, mark read, agent typing, assignment, erasure. Behind bearer auth (app.ts). */
export function createConversationsApp(deps: AppDeps) {
  const app = new Hono();

  app.get(
    '/',
    documented({
      tag: 'conversations',
      auth: 'bearer',
      summary: "List conversations from Temporal visibility, filtered by Switchboard's search attributes",
      query: listQuery,
      responses: {
        200: { description: 'Newest first', schema: z.object({ conversations: z.array(conversationSummarySchema) }) },
        400: errorResponse('Invalid query'),
        ...V1_ERRORS,
      },
    }),
    async (c) => {
      const parsed = listQuery.safeParse(c.req.query());
      if (!parsed.success)
        throw new ApiError(
          400,
          'invalid_query',
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      return c.json({ conversations: await deps.conversations.list(parsed.data) });
    },
  );

  app.get(
    '/:key',
    documented({
      tag: 'conversations',
      auth: 'bearer',
      summary: "A conversation's state (history, routing decisions, assignment, receipts)",
      pathParams: KEY_PARAM,
      responses: {
        200: { description: 'The conversation state query', schema: conversationViewSchema },
        ...CONVERSATION_ERRORS,
      },
    }),
    async (c) => {
      const key = keyParam(c.req.param('key'));
      const state = await deps.conversations.getState(key);
      if (!state) throw new ApiError(404, 'conversation_not_found', `no conversation for ${key}`);
      return c.json(state);
    },
  );

  // Erasure on request: 202 once Temporal accepted the deletion of every run; again 202 when there is nothing left.
  app.delete(
    '/:key',
    documented({
      tag: 'conversations',
      auth: 'bearer',
      summary: 'Erase the conversation: terminate its open run and delete every run from Temporal',
      description:
        "Answers once Temporal accepted the deletion of every run (Temporal deletes asynchronously, within seconds). Runs are found through visibility and through the latest run's continue-as-new chain; a run a racing webhook starts during the erasure is deleted too. Idempotent: 202 again when nothing is left. A message that arrives after the answer starts a new conversation.",
      pathParams: KEY_PARAM,
      responses: {
        202: {
          description: 'Deletion of every run accepted',
          schema: z.object({
            key: z.string(),
            workflowId: z.string(),
            status: z.literal('deletion_accepted'),
            deletedRuns: z.number().int(),
            runIds: z.array(z.string()),
            terminatedRunIds: z.array(z.string()),
          }),
        },
        ...V1_ERRORS,
        400: errorResponse('Invalid conversation key'),
        409: errorResponse('New runs kept starting during the erasure (those found are deleted): retry'),
      },
    }),
    async (c) => {
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
    },
  );

  app.get(
    '/:key/history',
    documented({
      tag: 'conversations',
      auth: 'bearer',
      summary: "The conversation's full transcript across every run, read from Temporal's own workflow histories",
      pathParams: KEY_PARAM,
      responses: {
        200: {
          description: 'The transcript, oldest first',
          schema: z.object({ key: z.string(), entries: z.array(transcriptEntrySchema) }),
        },
        ...CONVERSATION_ERRORS,
      },
    }),
    async (c) => {
      const key = keyParam(c.req.param('key'));
      const entries = await onConversation(key, () => deps.conversations.transcript(key));
      return c.json({ key, entries });
    },
  );

  /** An operator action carried out by a workflow update: the body is the update's argument, its result the answer. */
  const updateRoute = <Arg, Ret>(
    path: string,
    doc: { summary: string; answered: string; answer: z.ZodType },
    body: z.ZodType<Arg>,
    update: UpdateDefinition<Ret, [Arg]>,
  ) =>
    app.post(path, documented(updateDoc(doc.summary, body, doc.answered, doc.answer)), async (c) => {
      const key = keyParam(c.req.param('key'));
      const arg = await parseJsonBody(c, body);
      return c.json((await onConversation(key, () => deps.conversations.update(key, update, arg))) as object);
    });

  updateRoute(
    '/:key/read',
    {
      summary: "Mark the user's messages READ (all unread human-handled ones without messageIds)",
      answered: 'Marked',
      answer: z.object({ marked: z.array(z.string()), failed: z.array(z.string()).optional() }),
    },
    markReadBody,
    markReadUpdate,
  );
  updateRoute(
    '/:key/typing',
    { summary: 'A human agent starts or stops typing', answered: 'Applied', answer: z.object({ typing: z.boolean() }) },
    typingBody,
    agentTypingUpdate,
  );
  updateRoute(
    '/:key/assign',
    {
      summary: 'Hand the conversation to a human agent, or back to automation',
      answered: 'Assigned',
      answer: z.object({ assignedTo: assignmentSchema }),
    },
    assignBody,
    assignUpdate,
  );

  return app;
}

/** An operator action carried out by a workflow update: its body, its answer, and the conversation's refusal (422). */
function updateDoc(summary: string, body: z.ZodType, answered: string, answer: z.ZodType): RouteDoc {
  return {
    tag: 'conversations',
    auth: 'bearer',
    summary,
    pathParams: KEY_PARAM,
    body: { schema: body },
    responses: {
      200: { description: answered, schema: answer },
      ...CONVERSATION_ERRORS,
      422: errorResponse('Rejected by the conversation'),
    },
  };
}
