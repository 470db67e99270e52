import { Hono } from 'hono';
import { z } from 'zod';
import { verifySignature } from '../channels/signature';
import { rbmConversationKey } from '../domain/conversation-key';
import { type InboundEvent } from '../domain/inbound';
import { type AppDeps } from './app';
import { ApiError } from './errors';

const rbmEnvelope = z.object({ message: z.object({ data: z.string() }) });
const rbmTextMessage = z.object({ senderPhoneNumber: z.string(), agentId: z.string(), messageId: z.string(), text: z.string(), sendTime: z.string().optional() });

/** POST /webhooks/{rbm,bm}: verify, normalize, signal Temporal, and only then acknowledge. */
export function createWebhooksApp(deps: AppDeps) {
  const app = new Hono();

  app.post('/rbm', async (c) => {
    const envelope = rbmEnvelope.safeParse(await c.req.json().catch(() => undefined));
    if (!envelope.success) throw new ApiError(400, 'invalid_payload', 'body is not an RBM envelope with message.data');
    const data = Buffer.from(envelope.data.message.data, 'base64');
    const token = deps.config.webhookTokens.rbm.default;
    if (!token || !verifySignature(token, data, c.req.header('x-goog-signature'))) throw new ApiError(401, 'invalid_signature', 'X-Goog-Signature is missing or wrong');
    const message = rbmTextMessage.safeParse(JSON.parse(data.toString('utf8')));
    if (!message.success) throw new ApiError(400, 'invalid_payload', 'message.data is not an RBM text message');
    const key = rbmConversationKey(message.data.agentId, message.data.senderPhoneNumber);
    const event: InboundEvent = {
      type: 'message',
      channel: 'rbm',
      conversationKey: key,
      dedupeKey: message.data.messageId,
      messageId: message.data.messageId,
      content: { kind: 'text', text: message.data.text },
      occurredAt: message.data.sendTime,
      receivedAt: new Date().toISOString(),
    };
    await deps.conversations.deliver(key, [event]);
    return c.json({ status: 'accepted' });
  });

  return app;
}
