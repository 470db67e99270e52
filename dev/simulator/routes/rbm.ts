/**
 * The RBM endpoints Switchboard calls: phones.agentMessages.create / delete,
 * phones.agentEvents.create, phones.getCapabilities. A message or event id the agent used before
 * is ignored (answered 200, no effect), as RBM does.
 */
import { Hono } from 'hono';

import { RBM_SCOPE } from '../../../src/channels/google-auth';
import { maskPhone } from '../../../src/domain/conversation-key';
import { requireGoogleToken } from '../middleware';
import { Phones } from '../phones';
import { googleError, type SimEnv, type SimulatorState } from '../state';
import { parseJsonObject } from './json';

const E164 = /^\+[1-9]\d{6,14}$/;
const TTL = /^(\d+)(\.\d{1,9})?s$/;
const MAX_TTL_S = 15 * 24 * 3600;
const MAX_TEXT = 3072;

/** Validates an AgentMessage body; returns an error message or the absolute expiry. */
function checkAgentMessage(body: Record<string, unknown>): { error: string } | { expireAt?: string } {
  const content = body.contentMessage as Record<string, unknown> | undefined;
  if (typeof content !== 'object' || content === null) return { error: 'contentMessage is required' };
  const kinds = ['text', 'richCard', 'fileName', 'uploadedRbmFile', 'contentInfo'].filter(
    (k) => content[k] !== undefined,
  );
  if (kinds.length !== 1)
    return { error: 'contentMessage needs exactly one of text, richCard, fileName, uploadedRbmFile, contentInfo' };
  if (typeof content.text === 'string' && content.text.length > MAX_TEXT)
    return { error: `text is longer than ${MAX_TEXT} characters` };
  if (body.ttl !== undefined && body.expireTime !== undefined)
    return { error: 'ttl and expireTime are mutually exclusive' };
  if (body.ttl !== undefined) {
    const m = typeof body.ttl === 'string' ? TTL.exec(body.ttl) : null;
    if (!m) return { error: 'ttl must be a duration such as "3600s"' };
    const seconds = Number(m[1]) + Number(m[2] ?? 0);
    if (seconds > MAX_TTL_S) return { error: 'ttl is longer than 15 days' };
    return { expireAt: new Date(Date.now() + seconds * 1000).toISOString() };
  }
  if (body.expireTime !== undefined) {
    const at = typeof body.expireTime === 'string' ? Date.parse(body.expireTime) : NaN;
    if (Number.isNaN(at)) return { error: 'expireTime must be an RFC 3339 timestamp' };
    if (at - Date.now() > MAX_TTL_S * 1000) return { error: 'expireTime is more than 15 days away' };
    return { expireAt: new Date(at).toISOString() };
  }
  return {};
}

export function rbmRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();
  app.use('*', requireGoogleToken(state, RBM_SCOPE));

  /** Common checks: E.164 phone, agentId, RCS-reachable (404 otherwise, as RBM answers for a user without RCS). */
  const target = (
    phone: string,
    agentId: string | undefined,
  ): { phone: string; agentId: string } | { status: 400 | 404; message: string } => {
    if (!E164.test(phone)) return { status: 400, message: 'phone number must be E.164' };
    if (!agentId) return { status: 400, message: 'agentId is required' };
    if (!state.phones.profile(`rbm:${phone}`).reachable)
      return { status: 404, message: 'Requested entity was not found.' };
    return { phone, agentId };
  };

  app.post('/:phone/agentMessages', (c) => {
    const t = target(c.req.param('phone'), c.req.query('agentId'));
    if ('status' in t) return c.json(googleError(t.status, t.message), t.status);
    const messageId = c.req.query('messageId');
    if (!messageId) return c.json(googleError(400, 'messageId is required'), 400);
    const body = parseJsonObject(c.get('rawBody'));
    if (!body) return c.json(googleError(400, 'the body must be an AgentMessage JSON object'), 400);
    const checked = checkAgentMessage(body);
    if ('error' in checked) return c.json(googleError(400, checked.error), 400);

    const key = Phones.rbmKey(t.agentId, messageId);
    const existing = state.phones.get(key);
    const name = `phones/${t.phone}/agentMessages/${messageId}`;
    if (existing || state.eventIds.has(key)) {
      // RBM ignores a reused id: the answer looks like success, nothing is sent again.
      c.set('duplicate', true);
      return c.json({
        name,
        sendTime: existing?.acceptedAt ?? new Date().toISOString(),
        contentMessage: body.contentMessage,
      });
    }
    const acceptedAt = new Date().toISOString();
    state.phones.accept(key, {
      channel: 'rbm',
      messageId,
      agentId: t.agentId,
      msisdn: t.phone,
      conversation: `rbm:${t.agentId}:${t.phone}`,
      status: 'pending',
      acceptedAt,
      ...(checked.expireAt ? { expireAt: checked.expireAt } : {}),
      request: body,
    });
    return c.json({
      name,
      sendTime: acceptedAt,
      contentMessage: body.contentMessage,
      ...(checked.expireAt ? { expireTime: checked.expireAt } : {}),
      ...(body.messageTrafficType ? { messageTrafficType: body.messageTrafficType } : {}),
    });
  });

  app.delete('/:phone/agentMessages/:messageId', (c) => {
    const phone = c.req.param('phone');
    const agentId = c.req.query('agentId');
    if (!agentId) return c.json(googleError(400, 'agentId is required'), 400);
    const revoked = state.phones.revoke(Phones.rbmKey(agentId, c.req.param('messageId')));
    if (!revoked) return c.json(googleError(404, 'Requested entity was not found.'), 404);
    state.logger.debug('message revoked', { messageId: c.req.param('messageId'), phone: maskPhone(phone) });
    return c.json({});
  });

  app.post('/:phone/agentEvents', (c) => {
    const t = target(c.req.param('phone'), c.req.query('agentId'));
    if ('status' in t) return c.json(googleError(t.status, t.message), t.status);
    const eventId = c.req.query('eventId');
    if (!eventId) return c.json(googleError(400, 'eventId is required'), 400);
    const body = parseJsonObject(c.get('rawBody'));
    if (!body || (body.eventType !== 'READ' && body.eventType !== 'IS_TYPING'))
      return c.json(googleError(400, 'eventType must be READ or IS_TYPING'), 400);
    if (body.eventType === 'READ' && typeof body.messageId !== 'string')
      return c.json(googleError(400, 'a READ event needs messageId'), 400);
    const key = Phones.rbmKey(t.agentId, eventId);
    if (state.eventIds.has(key) || state.phones.get(key)) c.set('duplicate', true);
    else state.eventIds.add(key);
    return c.json({
      name: `phones/${t.phone}/agentEvents/${eventId}`,
      eventType: body.eventType,
      ...(body.messageId ? { messageId: body.messageId } : {}),
    });
  });

  app.get('/:phone/capabilities', (c) => {
    const t = target(c.req.param('phone'), c.req.query('agentId'));
    if ('status' in t) return c.json(googleError(t.status, t.message), t.status);
    return c.json({ features: state.phones.profile(`rbm:${t.phone}`).features });
  });

  return app;
}
