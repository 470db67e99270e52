/** Messages sent through the simulated Twilio account, newest first on listing, as Twilio lists them. */
export interface SimSms {
  sid: string;
  account_sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  status: 'queued' | 'sent' | 'delivered';
  direction: 'outbound-api';
  /** RFC 2822, as Twilio writes dates. */
  date_created: string;
  date_updated: string;
  date_sent: string | null;
  num_segments: string;
  uri: string;
  /** Simulator only: the X-Switchboard-Idempotency-Key it was sent with. */
  idempotency_key?: string;
}

export class SmsStore {
  private readonly messages: SimSms[] = [];

  add(message: SimSms): void {
    this.messages.push(message);
  }

  byIdempotencyKey(accountSid: string, key: string): SimSms | undefined {
    return this.messages.find((m) => m.account_sid === accountSid && m.idempotency_key === key);
  }

  bySid(sid: string): SimSms | undefined {
    return this.messages.find((m) => m.sid === sid);
  }

  list(filter: { accountSid?: string; to?: string; from?: string } = {}): SimSms[] {
    return this.messages
      .filter(
        (m) =>
          (filter.accountSid === undefined || m.account_sid === filter.accountSid) &&
          (filter.to === undefined || m.to === filter.to) &&
          (filter.from === undefined || m.from === filter.from),
      )
      .reverse();
  }

  clear(): void {
    this.messages.length = 0;
  }
}
