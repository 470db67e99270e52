/**
 * The Business Messages endpoints Switchboard calls: conversations.messages.create,
 * messages.updateReceipt, conversations.events.create. A reused messageId / eventId in a
 * conversation is answered 409 ALREADY_EXISTS, as Business Messages did.
 */
import { Hono } from 'hono';

import { BM_SCOPE } from '../../../src/channels/google-auth';
import { requireGoogleToken } from '../middleware';
import { Phones } from '../phones';
import { googleError, type SimEnv, type SimulatorState } from '../state';
import { parseJsonObject } from './json';

const EVENT_TYPES = new Set(['TYPING_STARTED', 'TYPING_STOPPED', 'REPRESENTATIVE_JOINED', 'REPRESENTATIVE_LEFT']);

function representativeOk(value: unknown): boolean {
  const type = (value as { representativeType?: unknown } | undefined)?.representativeType;
  return type === 'BOT' || type === 'HUMAN';
}

export function bmRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();
  app.use('*', requireGoogleToken(state, BM_SCOPE));

  /** PERMISSION_DENIED when the conversation does not exist (device configured unreachable). */
  const exists = (conversationId: string) => state.phones.profile(`bm:${conversationId}`).reachable;
  const denied = googleError(
    403,
    'The caller does not have permission: conversation not found or not owned by this agent',
  );

  app.post('/:conversationId/messages', (c) => {
    const conversationId = c.req.param('conversationId');
    if (!exists(conversationId)) return c.json(denied, 403);
    const body = parseJsonObject(c.get('rawBody'));
    if (!body || typeof body.messageId !== 'string' || body.messageId === '')
      return c.json(googleError(400, 'messageId is required'), 400);
    if (!representativeOk(body.representative))
      return c.json(googleError(400, 'representative.representativeType must be BOT or HUMAN'), 400);
    const kinds = ['text', 'image', 'richCard'].filter((k) => body[k] !== undefined);
    if (kinds.length !== 1)
      return c.json(googleError(400, 'a message needs exactly one of text, image, richCard'), 400);
    if (Array.isArray(body.suggestions) && body.suggestions.length > 13)
      return c.json(googleError(400, 'at most 13 suggestions'), 400);

    const key = Phones.bmKey(conversationId, body.messageId);
    if (state.phones.get(key)) {
      c.set('duplicate', true);
      return c.json(googleError(409, `Message ${body.messageId} already exists`), 409);
    }
    const createTime = new Date().toISOString();
    state.phones.accept(key, {
      channel: 'bm',
      messageId: body.messageId,
      conversationId,
      conversation: `bm:${conversationId}`,
      status: 'pending',
      acceptedAt: createTime,
      request: body,
    });
    return c.json({ ...body, name: `conversations/${conversationId}/messages/${body.messageId}`, createTime });
  });

  app.patch('/:conversationId/messages/:messageId/receipt', (c) => {
    const conversationId = c.req.param('conversationId');
    if (!exists(conversationId)) return c.json(denied, 403);
    const body = parseJsonObject(c.get('rawBody'));
    if (body?.receiptType !== 'READ') return c.json(googleError(400, 'receiptType must be READ'), 400);
    return c.json({
      name: `conversations/${conversationId}/messages/${c.req.param('messageId')}/receipt`,
      receiptType: 'READ',
    });
  });

  app.post('/:conversationId/events', (c) => {
    const conversationId = c.req.param('conversationId');
    if (!exists(conversationId)) return c.json(denied, 403);
    const eventId = c.req.query('eventId');
    if (!eventId) return c.json(googleError(400, 'eventId is required'), 400);
    const body = parseJsonObject(c.get('rawBody'));
    if (!body || typeof body.eventType !== 'string' || !EVENT_TYPES.has(body.eventType))
      return c.json(googleError(400, `eventType must be one of ${[...EVENT_TYPES].join(', ')}`), 400);
    if (!representativeOk(body.representative))
      return c.json(googleError(400, 'representative.representativeType must be BOT or HUMAN'), 400);
    const key = Phones.bmKey(conversationId, `event:${eventId}`);
    if (state.eventIds.has(key)) {
      c.set('duplicate', true);
      return c.json(googleError(409, `Event ${eventId} already exists`), 409);
    }
    state.eventIds.add(key);
    return c.json({
      name: `conversations/${conversationId}/events/${eventId}`,
      eventType: body.eventType,
      representative: body.representative,
    });
  });

  return app;
}
