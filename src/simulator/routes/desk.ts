/**
 * A stand-in for the human agents' desk, so a local run can set HANDOFF_URL to
 * {simulator}/desk/handoffs: checks the X-Switchboard-Signature (when it knows HANDOFF_SECRET),
 * answers 409 for a handoff id it already has (the notifier counts that as delivered), records
 * everything in /sim/calls.
 */
import { Hono } from 'hono';
import { HANDOFF_SIGNATURE_HEADER, verifyHandoffSignature } from '../../channels/handoff';
import { type SimEnv, type SimulatorState } from '../state';
import { parseJsonObject } from './json';

export function deskRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();
  app.post('/handoffs', (c) => {
    const raw = c.get('rawBody');
    const secret = state.settings.handoffSecret;
    if (secret && !verifyHandoffSignature(secret, raw, c.req.header(HANDOFF_SIGNATURE_HEADER))) return c.json({ error: 'bad signature' }, 401);
    const body = parseJsonObject(raw);
    const handoffId = c.req.header('idempotency-key') ?? (typeof body?.handoffId === 'string' ? body.handoffId : undefined);
    if (!body || !handoffId) return c.json({ error: 'a JSON handoff with handoffId is required' }, 400);
    if (state.handoffIds.has(handoffId)) {
      c.set('duplicate', true);
      return c.json({ error: 'handoff already received' }, 409);
    }
    state.handoffIds.add(handoffId);
    return c.json({ received: handoffId });
  });
  return app;
}
