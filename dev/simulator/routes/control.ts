/**
 * The control API under /sim/ (never collides with Google's or Twilio's paths): recorded calls,
 * platform messages, phone / conversation behaviour, faults, tokens, reset. Unauthenticated, so
 * the simulator binds to 127.0.0.1 by default.
 */
import { Hono } from 'hono';
import { type z } from 'zod';

import { normalizePhoneParam } from '../calls';
import { faultRuleSchema } from '../faults';
import { deviceProfilePatchSchema, Phones } from '../phones';
import { type SimEnv, type SimulatorState } from '../state';
import { parseJsonObject } from './json';

const ENDPOINTS = [
  'GET    /sim/calls?phone=&conversation=&api=&direction=&after=   recorded calls, the newest 10 000 (DELETE clears)',
  'GET    /sim/counts                                              exact per-id counts of every call (RBM), whatever the size',
  'GET    /sim/messages?phone=&conversation=                      agent messages and SMS the platform holds',
  'POST   /sim/messages/{messageId}/deliver|read?agentId=&conversation=   deliver or read one now',
  'GET    /sim/phones                                              default and per-device behaviour',
  'PUT    /sim/defaults                                            change the default device behaviour',
  'GET|PUT|DELETE /sim/phones/{msisdn}                             one RBM phone: rcs, online, deliverAfterMs, readAfterMs, ttlOutcome, features',
  'GET|PUT|DELETE /sim/conversations/{conversationId}              one Business Messages conversation: reachable, online, deliverAfterMs, readAfterMs',
  'GET|POST|DELETE /sim/faults, DELETE /sim/faults/{id}            injected faults',
  'POST   /sim/tokens/revoke                                       forget issued access tokens (next API call gets 401)',
  'POST   /sim/users/rbm/{msisdn}/{text|image|file|location|reply|action|typing|subscribe|unsubscribe}',
  'POST   /sim/users/bm/{conversationId}/{text|image|file|reply|action|typing|live-agent|auth}',
  'POST   /sim/webhooks/rbm {agentId?, data | dataText}, /sim/webhooks/bm {agent?, body | bodyText}   any payload, signed and retried like Google',
  'POST   /sim/reset                                               forget calls, messages, faults, phone settings',
  'POST   /desk/handoffs                                           stand-in human desk: point HANDOFF_URL here (signature checked with HANDOFF_SECRET)',
  'POST   /desk/auth-codes                                         stand-in sign-in backend: point AUTH_CODE_URL here (signature checked with AUTH_CODE_SECRET)',
];

export function controlRoutes(state: SimulatorState, reset: () => void) {
  const app = new Hono<SimEnv>();

  const body = async (raw: Promise<string>) => {
    const text = await raw;
    return text.trim() === '' ? {} : parseJsonObject(text);
  };
  const invalid = (error: z.ZodError) => ({
    error: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
  });

  app.get('/', (c) =>
    c.json({
      simulator: 'switchboard',
      publicUrl: state.publicUrl(),
      tokenUri: `${state.publicUrl()}/token`,
      endpoints: ENDPOINTS,
    }),
  );

  app.get('/calls', (c) => {
    const q = c.req.query();
    const after = q.after !== undefined ? Number(q.after) : undefined;
    const calls = state.calls.list({
      ...(q.phone !== undefined ? { phone: q.phone } : {}),
      ...(q.conversation !== undefined ? { conversation: q.conversation } : {}),
      ...(q.api !== undefined ? { api: q.api } : {}),
      ...(q.direction !== undefined ? { direction: q.direction } : {}),
      ...(after !== undefined && Number.isFinite(after) ? { after } : {}),
    });
    return c.json({ calls });
  });
  app.get('/counts', (c) => c.json(state.calls.counts()));
  app.delete('/calls', (c) => {
    state.calls.clear();
    return c.json({ cleared: true });
  });

  app.get('/messages', (c) => {
    const phone = c.req.query('phone');
    const conversation = c.req.query('conversation');
    const filter = {
      ...(phone ? { phone: normalizePhoneParam(phone) } : {}),
      ...(conversation ? { conversation: conversation.replace(/ /g, '+') } : {}),
    };
    return c.json({
      messages: state.phones.list(filter),
      sms: state.sms.list(filter.phone ? { to: filter.phone } : {}),
    });
  });

  app.post('/messages/:messageId/:step{deliver|read}', (c) => {
    const messageId = c.req.param('messageId');
    const agentId = c.req.query('agentId');
    const conversationId = c.req.query('conversation');
    const candidates = agentId
      ? [Phones.rbmKey(agentId, messageId)]
      : conversationId
        ? [Phones.bmKey(conversationId.replace(/^bm:/, ''), messageId)]
        : [];
    const keys =
      candidates.length > 0
        ? candidates.filter((k) => state.phones.get(k))
        : state.phones
            .findById(messageId)
            .map((m) =>
              m.channel === 'rbm'
                ? Phones.rbmKey(m.agentId ?? '', messageId)
                : Phones.bmKey(m.conversationId ?? '', messageId),
            );
    if (keys.length === 0) return c.json({ error: 'no such message' }, 404);
    if (keys.length > 1)
      return c.json({ error: 'several messages have this id: add ?agentId= or ?conversation=' }, 409);
    const key = keys[0] as string;
    const done = c.req.param('step') === 'deliver' ? state.phones.deliver(key) : state.phones.read(key);
    return c.json({ done, message: state.phones.get(key) }, done ? 200 : 409);
  });

  app.get('/phones', (c) =>
    c.json({ defaults: state.phones.defaultsProfile(), configured: state.phones.configured() }),
  );
  app.put('/defaults', async (c) => {
    const parsed = deviceProfilePatchSchema.safeParse(await body(c.req.text()));
    if (!parsed.success) return c.json(invalid(parsed.error), 400);
    return c.json(state.phones.setDefaults(parsed.data));
  });

  const device = (prefix: 'rbm' | 'bm', param: 'msisdn' | 'conversationId') => {
    const id = (raw: string) => `${prefix}:${prefix === 'rbm' ? normalizePhoneParam(raw) : raw}`;
    const path = prefix === 'rbm' ? '/phones/:msisdn' : '/conversations/:conversationId';
    app.get(path, (c) => c.json(state.phones.profile(id(c.req.param(param)))));
    app.put(path, async (c) => {
      const parsed = deviceProfilePatchSchema.safeParse(await body(c.req.text()));
      if (!parsed.success) return c.json(invalid(parsed.error), 400);
      return c.json(state.phones.configure(id(c.req.param(param)), parsed.data));
    });
    app.delete(path, (c) => {
      state.phones.forget(id(c.req.param(param)));
      return c.json({ forgotten: true });
    });
  };
  device('rbm', 'msisdn');
  device('bm', 'conversationId');

  app.get('/faults', (c) => c.json({ faults: state.faults.list() }));
  app.post('/faults', async (c) => {
    const parsed = faultRuleSchema.safeParse(await body(c.req.text()));
    if (!parsed.success) return c.json(invalid(parsed.error), 400);
    return c.json(state.faults.add(parsed.data), 201);
  });
  app.delete('/faults', (c) => {
    state.faults.clear();
    return c.json({ cleared: true });
  });
  app.delete('/faults/:id', (c) =>
    state.faults.remove(c.req.param('id')) ? c.json({ removed: true }) : c.json({ error: 'no such fault' }, 404),
  );

  app.get('/tokens', (c) => c.json({ issued: state.tokens.issued }));
  app.post('/tokens/revoke', (c) => {
    state.tokens.revokeAll();
    return c.json({ revoked: true });
  });

  app.post('/reset', (c) => {
    reset();
    return c.json({ reset: true });
  });

  return app;
}
