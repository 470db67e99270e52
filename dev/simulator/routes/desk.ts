/**
 * A stand-in for the human agents' desk, so a local run can set HANDOFF_URL to
 * {simulator}/desk/handoffs: checks the X-Switchboard-Signature (when it knows HANDOFF_SECRET),
 * answers 409 for a handoff id it already has (the notifier counts that as delivered), records
 * everything in /sim/calls. And a stand-in for the business's sign-in backend at
 * {simulator}/desk/auth-codes (AUTH_CODE_URL): it takes Business Messages authorization codes the
 * same way (signature with AUTH_CODE_SECRET, 409 for a requestId it has), keeps them for
 * `authCodes()`, and records the calls with the code redacted.
 */
import { Hono } from 'hono';

import { AUTH_CODE_SIGNATURE_HEADER, verifyAuthCodeSignature } from '../../../src/channels/auth-codes';
import { HANDOFF_SIGNATURE_HEADER, verifyHandoffSignature } from '../../../src/channels/handoff';
import { type SimEnv, type SimulatorState } from '../state';
import { parseJsonObject } from './json';

export function deskRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();
  app.post('/handoffs', (c) => {
    const raw = c.get('rawBody');
    const secret = state.settings.handoffSecret;
    if (secret && !verifyHandoffSignature(secret, raw, c.req.header(HANDOFF_SIGNATURE_HEADER)))
      return c.json({ error: 'bad signature' }, 401);
    const body = parseJsonObject(raw);
    const handoffId =
      c.req.header('idempotency-key') ?? (typeof body?.handoffId === 'string' ? body.handoffId : undefined);
    if (!body || !handoffId) return c.json({ error: 'a JSON handoff with handoffId is required' }, 400);
    if (state.handoffIds.has(handoffId)) {
      c.set('duplicate', true);
      return c.json({ error: 'handoff already received' }, 409);
    }
    state.handoffIds.add(handoffId);
    return c.json({ received: handoffId });
  });
  app.post('/auth-codes', (c) => {
    const raw = c.get('rawBody');
    const secret = state.settings.authCodeSecret;
    if (secret && !verifyAuthCodeSignature(secret, raw, c.req.header(AUTH_CODE_SIGNATURE_HEADER)))
      return c.json({ error: 'bad signature' }, 401);
    const body = parseJsonObject(raw);
    const requestId =
      c.req.header('idempotency-key') ?? (typeof body?.requestId === 'string' ? body.requestId : undefined);
    if (!body || !requestId || typeof body.code !== 'string' || typeof body.conversationKey !== 'string')
      return c.json({ error: 'a JSON hand-over with requestId, conversationKey and code is required' }, 400);
    if (state.authCodes.has(requestId)) {
      c.set('duplicate', true);
      return c.json({ error: 'code already received' }, 409);
    }
    state.authCodes.set(requestId, {
      requestId,
      conversationKey: body.conversationKey,
      code: body.code,
      ...(typeof body.redirectUri === 'string' ? { redirectUri: body.redirectUri } : {}),
    });
    return c.json({ received: requestId });
  });
  return app;
}
