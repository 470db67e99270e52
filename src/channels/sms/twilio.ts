/**
 * Twilio's Messages API: form-encoded POST /2010-04-01/Accounts/{sid}/Messages.json with HTTP
 * basic auth (account SID : auth token) and a StatusCallback URL for delivery reports.
 *
 * Twilio has no idempotency key for sends. Two measures keep a retried activity from sending twice:
 * - every send carries `X-Switchboard-Idempotency-Key` (Twilio ignores unknown headers; the local
 *   simulator dedupes on it, so a retry against the simulator is provably one SMS);
 * - on a retry attempt the SMS gateway first lists recent messages to the same number
 *   (`findSent`) and returns the one with the same body created since the activity was first
 *   scheduled (see gateway.ts).
 */
import { maskPhone } from '../../domain/conversation-key';
import { FailureType } from '../../domain/errors';
import { type CallDescription, failureForStatus } from '../failures';
import { apiUrl, httpCall, type HttpResponse, jsonBody } from '../http';
import { type SmsProvider, type SmsSendRequest } from './provider';

export const TWILIO_DEFAULT_BASE_URL = 'https://api.twilio.com';
/** The header the simulator dedupes SMS sends on (real Twilio ignores it). */
export const SMS_IDEMPOTENCY_HEADER = 'X-Switchboard-Idempotency-Key';

export interface TwilioOptions {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** A sender number (E.164) or a Messaging Service SID (`MG…`). */
  from: string;
  statusCallbackUrl?: string;
  timeoutMs: number;
}

interface TwilioMessage {
  sid?: string;
  to?: string;
  body?: string;
  date_created?: string;
}

export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio';

  constructor(private readonly options: TwilioOptions) {}

  async send(req: SmsSendRequest): Promise<{ providerMessageId: string }> {
    const call: CallDescription = { operation: 'Twilio Messages.create', subject: maskPhone(req.to) };
    const form = new URLSearchParams({ To: req.to, Body: req.body });
    if (this.options.from.startsWith('MG')) form.set('MessagingServiceSid', this.options.from);
    else form.set('From', this.options.from);
    if (this.options.statusCallbackUrl) form.set('StatusCallback', this.options.statusCallbackUrl);
    const res = await httpCall(
      {
        method: 'POST',
        url: this.messagesUrl(),
        headers: {
          ...this.headers(),
          'content-type': 'application/x-www-form-urlencoded',
          [SMS_IDEMPOTENCY_HEADER]: req.idempotencyKey,
        },
        body: form.toString(),
      },
      call,
      { timeoutMs: this.options.timeoutMs },
    );
    if (res.status !== 201 && res.status !== 200) throw this.fail(res, call);
    const sid = jsonBody<TwilioMessage>(res)?.sid;
    if (!sid) throw failureForStatus(502, call, {}, { bodyText: '{"message":"no sid in the answer"}' });
    return { providerMessageId: sid };
  }

  async findSent(query: { to: string; body: string; since: Date }): Promise<string | undefined> {
    const call: CallDescription = { operation: 'Twilio Messages.list', subject: maskPhone(query.to) };
    // No DateSent filter: a message still queued has no date_sent yet and must be found too.
    const params: Record<string, string> = { To: query.to, PageSize: '50' };
    if (!this.options.from.startsWith('MG')) params.From = this.options.from;
    const res = await httpCall({ method: 'GET', url: this.messagesUrl(params), headers: this.headers() }, call, {
      timeoutMs: this.options.timeoutMs,
    });
    if (res.status !== 200) throw this.fail(res, call);
    const messages = jsonBody<{ messages?: TwilioMessage[] }>(res)?.messages ?? [];
    const match = messages.find(
      (m) =>
        m.body === query.body && m.date_created !== undefined && Date.parse(m.date_created) >= query.since.getTime(),
    );
    return match?.sid;
  }

  private messagesUrl(query: Record<string, string> = {}): URL {
    return apiUrl(
      this.options.baseUrl,
      `/2010-04-01/Accounts/${encodeURIComponent(this.options.accountSid)}/Messages.json`,
      query,
    );
  }

  private headers(): Record<string, string> {
    const basic = Buffer.from(`${this.options.accountSid}:${this.options.authToken}`).toString('base64');
    return { authorization: `Basic ${basic}`, accept: 'application/json' };
  }

  private fail(res: HttpResponse, call: CallDescription) {
    // 400 is Twilio's "this message cannot be sent" (invalid or unsubscribed number, ...).
    return failureForStatus(
      res.status,
      call,
      { badRequest: FailureType.SmsRejected },
      { retryAfter: res.headers.get('retry-after'), bodyText: res.text },
    );
  }
}
