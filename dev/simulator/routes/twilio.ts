/**
 * Twilio's Messages API as Switchboard uses it: create (form-encoded, basic auth), list (for the
 * retry check) and fetch. Sends carrying X-Switchboard-Idempotency-Key are deduped on it (real
 * Twilio has no such feature and ignores the header). With a StatusCallback URL, the simulator
 * posts `sent` and `delivered` callbacks signed with X-Twilio-Signature.
 */
import { timingSafeEqual } from 'node:crypto';

import { type Context, Hono } from 'hono';

import { SMS_IDEMPOTENCY_HEADER } from '../../../src/channels/sms/twilio';
import { type SimSms } from '../sms-store';
import { type SimEnv, type SimulatorState, twilioError } from '../state';

const E164 = /^\+[1-9]\d{6,14}$/;

function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The account's auth token if the Basic credentials are good for `accountSid`, else undefined. */
function authenticate(state: SimulatorState, c: Context<SimEnv>, accountSid: string): string | undefined {
  const match = /^Basic (\S+)$/i.exec(c.req.header('authorization') ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  const user = decoded.slice(0, sep);
  const password = decoded.slice(sep + 1);
  if (sep <= 0 || user !== accountSid || password === '') return undefined;
  const expected = state.settings.twilio;
  if (expected && (expected.accountSid !== accountSid || !sameText(expected.authToken, password))) return undefined;
  return password;
}

export function twilioRoutes(state: SimulatorState) {
  const app = new Hono<SimEnv>();
  const unauthorized = (c: Context<SimEnv>) => c.json(twilioError(401, 20003, 'Authenticate'), 401);

  app.post('/Accounts/:sid/Messages.json', (c) => {
    const accountSid = c.req.param('sid');
    const authToken = authenticate(state, c, accountSid);
    if (!authToken) return unauthorized(c);
    const form = new URLSearchParams(c.get('rawBody'));
    const to = form.get('To') ?? '';
    const body = form.get('Body') ?? '';
    const from = form.get('From');
    const service = form.get('MessagingServiceSid');
    if (!E164.test(to))
      return c.json(
        twilioError(400, 21211, `The 'To' number ${to ? 'is not a valid phone number' : 'is required'}.`),
        400,
      );
    if (!from && !service)
      return c.json(twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required."), 400);
    if (!body) return c.json(twilioError(400, 21602, 'Message body is required.'), 400);

    const key = c.req.header(SMS_IDEMPOTENCY_HEADER);
    const earlier = key && state.settings.smsDedupeHeader ? state.sms.byIdempotencyKey(accountSid, key) : undefined;
    if (earlier) {
      c.set('duplicate', true);
      return c.json(earlier, 201);
    }
    const created = new Date();
    const sid = `SM${state.random.hex(32)}`;
    const message: SimSms = {
      sid,
      account_sid: accountSid,
      to,
      from: from ?? null,
      messaging_service_sid: service ?? null,
      body,
      status: 'queued',
      direction: 'outbound-api',
      date_created: rfc2822(created),
      date_updated: rfc2822(created),
      date_sent: null,
      num_segments: String(Math.max(1, Math.ceil(body.length / 160))),
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      ...(key ? { idempotency_key: key } : {}),
    };
    state.sms.add(message);
    progress(state, message, form.get('StatusCallback') ?? undefined, authToken);
    return c.json(message, 201);
  });

  app.get('/Accounts/:sid/Messages.json', (c) => {
    const accountSid = c.req.param('sid');
    if (!authenticate(state, c, accountSid)) return unauthorized(c);
    const pageSize = Math.min(1000, Math.max(1, Number(c.req.query('PageSize') ?? 50) || 50));
    const to = c.req.query('To');
    const from = c.req.query('From');
    const messages = state.sms
      .list({ accountSid, ...(to ? { to } : {}), ...(from ? { from } : {}) })
      .slice(0, pageSize);
    return c.json({
      messages,
      page: 0,
      page_size: pageSize,
      uri: c.req.path,
      next_page_uri: null,
      previous_page_uri: null,
      first_page_uri: c.req.path,
    });
  });

  app.get('/Accounts/:sid/Messages/:file', (c) => {
    const accountSid = c.req.param('sid');
    if (!authenticate(state, c, accountSid)) return unauthorized(c);
    const message = state.sms.bySid(c.req.param('file').replace(/\.json$/, ''));
    if (!message || message.account_sid !== accountSid)
      return c.json(twilioError(404, 20404, 'The requested resource was not found'), 404);
    return c.json(message);
  });

  return app;
}

/** queued → sent at once → delivered after the default delivery delay, with status callbacks. */
function progress(state: SimulatorState, message: SimSms, callbackUrl: string | undefined, authToken: string): void {
  const step = (status: 'sent' | 'delivered') => {
    message.status = status;
    message.date_updated = rfc2822(new Date());
    if (status === 'sent') message.date_sent = message.date_updated;
    if (callbackUrl) {
      const fields = {
        MessageSid: message.sid,
        SmsSid: message.sid,
        AccountSid: message.account_sid,
        MessageStatus: status,
        SmsStatus: status,
        To: message.to,
        From: message.from ?? '',
      };
      state.webhooks.smsStatus(callbackUrl, fields, authToken, { phone: message.to });
    }
  };
  state.timers.after(0, () => {
    step('sent');
    state.timers.after(state.phones.defaultsProfile().deliverAfterMs ?? 1000, () => step('delivered'));
  });
}
