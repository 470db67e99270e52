/**
 * Acting as a user: POST /sim/users/rbm/{msisdn}/{action} and /sim/users/bm/{conversationId}/{action}
 * make the platform post the corresponding webhook to Switchboard, signed like Google's.
 * Actions: text, image, file, location (RBM), reply, action, typing, live-agent (BM),
 * auth (BM: the result of a sign-in suggestion, an authorization code or an error),
 * subscribe / unsubscribe (RBM). The answer reports the first delivery attempt.
 */
import { Hono } from 'hono';
import { z } from 'zod';

import {
  bmAuthenticationResponse,
  type BmContextInput,
  bmUserMessage,
  bmUserStatus,
  rbmUserEvent,
  rbmUserMessage,
  type UserContent,
} from '../payloads';
import { type SimEnv, type SimulatorState } from '../state';
import { type QueuedWebhook } from '../webhooks';
import { parseJsonObject } from './json';

const E164 = /^\+[1-9]\d{6,14}$/;

const common = {
  agentId: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  messageId: z.string().min(1).optional(),
};
const fileFields = {
  url: z.url(),
  mimeType: z.string().optional(),
  fileName: z.string().optional(),
  sizeBytes: z.number().int().positive().optional(),
};
const contextSchema = z
  .object({
    locale: z.string(),
    displayName: z.string(),
    placeId: z.string(),
    nearPlaceId: z.string(),
    entryPoint: z.string(),
    customContext: z.string(),
  })
  .partial()
  .optional();

export const userActionSchemas = {
  text: z.object({ ...common, text: z.string().min(1), context: contextSchema }),
  image: z.object({ ...common, ...fileFields, context: contextSchema }),
  file: z.object({ ...common, ...fileFields, context: contextSchema }),
  location: z.object({ ...common, latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }),
  reply: z.object({ ...common, postbackData: z.string().min(1), text: z.string().optional(), context: contextSchema }),
  action: z.object({ ...common, postbackData: z.string().min(1), text: z.string().optional(), context: contextSchema }),
  typing: z.object({ ...common, isTyping: z.boolean().default(true), context: contextSchema }),
  'live-agent': z.object({ ...common, context: contextSchema }),
  auth: z
    .object({
      ...common,
      code: z.string().min(1).optional(),
      redirectUri: z.string().optional(),
      error: z.string().min(1).optional(),
      errorDescription: z.string().optional(),
      context: contextSchema,
    })
    .refine((a) => a.code !== undefined || a.error !== undefined, { message: 'needs code or error' }),
  subscribe: z.object(common),
  unsubscribe: z.object(common),
} as const;

export type UserAction = keyof typeof userActionSchemas;

type Parsed = z.output<(typeof userActionSchemas)[UserAction]>;

function contentOf(action: UserAction, input: Parsed): UserContent | undefined {
  const i = input as Record<string, unknown>;
  switch (action) {
    case 'text':
      return { kind: 'text', text: String(i.text) };
    case 'image':
    case 'file':
      return {
        kind: action,
        url: String(i.url),
        ...(i.mimeType ? { mimeType: String(i.mimeType) } : {}),
        ...(i.fileName ? { fileName: String(i.fileName) } : {}),
        ...(i.sizeBytes ? { sizeBytes: Number(i.sizeBytes) } : {}),
      };
    case 'location':
      return { kind: 'location', latitude: Number(i.latitude), longitude: Number(i.longitude) };
    case 'reply':
    case 'action':
      return {
        kind: 'suggestion',
        postbackData: String(i.postbackData),
        ...(i.text ? { text: String(i.text) } : {}),
        type: action === 'reply' ? 'REPLY' : 'ACTION',
      };
    default:
      return undefined;
  }
}

export function userRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();

  const parse = (action: string, raw: string) => {
    if (!(action in userActionSchemas))
      return { error: `unknown action ${action}; one of ${Object.keys(userActionSchemas).join(', ')}` };
    const body = raw.trim() === '' ? {} : parseJsonObject(raw);
    if (!body) return { error: 'the body must be a JSON object' };
    const result = userActionSchemas[action as UserAction].safeParse(body);
    if (!result.success)
      return { error: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') };
    return { action: action as UserAction, input: result.data };
  };

  const answer = async (queued: QueuedWebhook, ids: Record<string, string>, conversation: string) => {
    const first = await queued.firstAttempt;
    return { conversation, ...ids, webhook: first };
  };

  app.post('/rbm/:msisdn/:action', async (c) => {
    const msisdn = c.req.param('msisdn').replace(/^ /, '+');
    if (!E164.test(msisdn)) return c.json({ error: 'msisdn must be E.164, e.g. +14155550100' }, 400);
    const parsed = parse(c.req.param('action'), await c.req.text());
    if ('error' in parsed) return c.json({ error: parsed.error }, 400);
    const { action, input } = parsed;
    const agentId = input.agentId ?? state.settings.rbmAgentId;
    const conversation = `rbm:${agentId}:${msisdn}`;
    const meta = { phone: msisdn, conversation };

    if (action === 'live-agent' || action === 'auth')
      return c.json({ error: `${action} is a Business Messages action` }, 400);
    if (action === 'typing' || action === 'subscribe' || action === 'unsubscribe') {
      const eventType = action === 'typing' ? 'IS_TYPING' : action.toUpperCase();
      const eventId = input.messageId ?? state.random.uuid();
      return c.json(
        await answer(
          state.webhooks.rbm(agentId, rbmUserEvent(agentId, msisdn, eventType, eventId), meta),
          { eventId },
          conversation,
        ),
      );
    }
    const content = contentOf(action, input);
    if (!content) return c.json({ error: `unsupported action ${action}` }, 400);
    const messageId = input.messageId ?? state.random.uuid();
    return c.json(
      await answer(
        state.webhooks.rbm(agentId, rbmUserMessage(agentId, msisdn, messageId, content), meta),
        { messageId },
        conversation,
      ),
    );
  });

  app.post('/bm/:conversationId/:action', async (c) => {
    const conversationId = c.req.param('conversationId');
    const parsed = parse(c.req.param('action'), await c.req.text());
    if ('error' in parsed) return c.json({ error: parsed.error }, 400);
    const { action, input } = parsed;
    const agent = input.agent ?? state.settings.bmAgent;
    const conversation = `bm:${conversationId}`;
    const context = 'context' in input ? (input.context as BmContextInput | undefined) : undefined;
    const env = { agent, conversationId, requestId: state.random.uuid(), ...(context ? { context } : {}) };
    const send = (payload: Record<string, unknown>, ids: Record<string, string>) =>
      answer(state.webhooks.bm(agent, payload, { conversation }), { requestId: env.requestId, ...ids }, conversation);

    if (action === 'location' || action === 'subscribe' || action === 'unsubscribe')
      return c.json({ error: `${action} is an RBM action` }, 400);
    if (action === 'typing')
      return c.json(await send(bmUserStatus(env, { isTyping: (input as { isTyping: boolean }).isTyping }), {}));
    if (action === 'live-agent') return c.json(await send(bmUserStatus(env, { requestedLiveAgent: true }), {}));
    if (action === 'auth') {
      const { code, redirectUri, error, errorDescription } = input as {
        code?: string;
        redirectUri?: string;
        error?: string;
        errorDescription?: string;
      };
      return c.json(
        await send(
          bmAuthenticationResponse(env, {
            ...(code !== undefined ? { code } : {}),
            ...(redirectUri !== undefined ? { redirectUri } : {}),
            ...(error !== undefined ? { error } : {}),
            ...(errorDescription !== undefined ? { errorDescription } : {}),
          }),
          {},
        ),
      );
    }
    const content = contentOf(action, input);
    if (!content) return c.json({ error: `unsupported action ${action}` }, 400);
    const messageId = input.messageId ?? state.random.uuid();
    return c.json(await send(bmUserMessage(env, messageId, content), { messageId }));
  });

  return app;
}
