/** What Switchboard needs from an SMS provider; Twilio is the first implementation (twilio.ts). */
export interface SmsSendRequest {
  /** E.164. */
  to: string;
  body: string;
  /** Deterministic per fallback (e.g. `sms-{messageId}`). Sent along where the provider can use it. */
  idempotencyKey: string;
}

export interface SmsProvider {
  /** Short name for logs and failure messages. */
  readonly name: string;
  send(req: SmsSendRequest): Promise<{ providerMessageId: string }>;
  /**
   * The id of a message with exactly this body already sent to `to` since `since`, if the provider
   * can list its messages. Used before re-sending on a retried activity, because a provider
   * without idempotency keys would otherwise send the same SMS twice after a lost answer.
   */
  findSent?(query: { to: string; body: string; since: Date }): Promise<string | undefined>;
}
