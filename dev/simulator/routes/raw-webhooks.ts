/**
 * POST /sim/webhooks/rbm and /sim/webhooks/bm: the platform posts a webhook of whatever content it
 * is given, signed with the agent's client token exactly as Google signs it, and retried the same
 * way (only 200 acknowledges). For what the user actions do not model: RBM agent launch events,
 * kinds a newer Google sends, payloads that break the documented schema, data that is not JSON,
 * bodies over Switchboard's limit. The answer reports the first delivery attempt.
 *
 *   rbm: { agentId?, data?: any JSON value | dataText?: string }   becomes the decoded `message.data`
 *   bm:  { agent?, body?: any JSON value | bodyText?: string }      becomes the raw body
 */
import { Hono } from 'hono';
import { z } from 'zod';

import { type SimEnv, type SimulatorState } from '../state';
import { parseJsonObject } from './json';

const rbmRaw = z
  .strictObject({
    agentId: z.string().min(1).optional(),
    data: z.unknown().optional(),
    dataText: z.string().optional(),
  })
  .refine((r) => (r.data === undefined) !== (r.dataText === undefined), {
    message: 'give exactly one of data and dataText',
  });
const bmRaw = z
  .strictObject({ agent: z.string().min(1).optional(), body: z.unknown().optional(), bodyText: z.string().optional() })
  .refine((r) => (r.body === undefined) !== (r.bodyText === undefined), {
    message: 'give exactly one of body and bodyText',
  });

/** The conversation a payload names, when it names one (for the call log's filters). */
function rbmSubject(data: unknown, agentId: string): { phone?: string; conversation?: string } {
  if (typeof data !== 'object' || data === null) return {};
  const phone = (data as Record<string, unknown>).senderPhoneNumber;
  return typeof phone === 'string' ? { phone, conversation: `rbm:${agentId}:${phone}` } : {};
}

export function rawWebhookRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();
  const invalid = (error: z.ZodError) => ({
    error: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
  });

  app.post('/rbm', async (c) => {
    const parsed = rbmRaw.safeParse(parseJsonObject(await c.req.text()) ?? null);
    if (!parsed.success) return c.json(invalid(parsed.error), 400);
    const { agentId = state.settings.rbmAgentId, data, dataText } = parsed.data;
    const bytes = Buffer.from(dataText ?? JSON.stringify(data), 'utf8');
    const recorded =
      dataText !== undefined
        ? dataText.length > 2000
          ? `${dataText.slice(0, 2000)}… (${bytes.length} bytes)`
          : dataText
        : data;
    const queued = state.webhooks.rbmBytes(agentId, bytes, recorded, rbmSubject(data, agentId));
    return c.json({ webhook: await queued.firstAttempt });
  });

  app.post('/bm', async (c) => {
    const parsed = bmRaw.safeParse(parseJsonObject(await c.req.text()) ?? null);
    if (!parsed.success) return c.json(invalid(parsed.error), 400);
    const { agent = state.settings.bmAgent, body, bodyText } = parsed.data;
    const text = bodyText ?? JSON.stringify(body);
    const conversationId =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).conversationId : undefined;
    const recorded =
      bodyText !== undefined
        ? bodyText.length > 2000
          ? `${bodyText.slice(0, 2000)}… (${Buffer.byteLength(bodyText)} bytes)`
          : bodyText
        : body;
    const queued = state.webhooks.bmText(
      agent,
      text,
      recorded,
      typeof conversationId === 'string' ? { conversation: `bm:${conversationId}` } : {},
    );
    return c.json({ webhook: await queued.firstAttempt });
  });

  return app;
}
