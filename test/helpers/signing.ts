import { computeSignature } from '../../src/channels/signature';

/** A signed RBM webhook request (Pub/Sub-style envelope; the signature covers the decoded data). */
export function signedRbmRequest(token: string, payload: unknown): { body: string; headers: Record<string, string> } {
  const data = Buffer.from(JSON.stringify(payload), 'utf8');
  const body = JSON.stringify({
    message: { data: data.toString('base64'), messageId: `ps-${Date.now()}`, publishTime: new Date().toISOString() },
    subscription: 'projects/test/subscriptions/rbm',
  });
  return { body, headers: { 'content-type': 'application/json', 'x-goog-signature': computeSignature(token, data) } };
}

/** A signed Business Messages webhook request (the signature covers the raw body). */
export function signedBmRequest(token: string, payload: unknown): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return { body, headers: { 'content-type': 'application/json', 'x-goog-signature': computeSignature(token, body) } };
}
