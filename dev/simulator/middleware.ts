/**
 * Runs around every platform call (not the /sim/ control API): reads the raw body once, works out
 * which API, phone and conversation it concerns, applies injected faults, and records the call
 * with the status it was answered (or null when a fault held it without answer).
 */
import { type Context, type MiddlewareHandler } from 'hono';

import { type CallApi } from './calls';
import { describeFault, type FaultRule } from './faults';
import { parseJsonObject } from './routes/json';
import { googleError, type SimEnv, type SimulatorState, twilioError } from './state';

function apiOf(path: string): CallApi | undefined {
  if (path === '/token') return 'oauth';
  if (path.startsWith('/v1/phones/')) return 'rbm';
  if (path.startsWith('/v1/conversations/')) return 'bm';
  if (path.startsWith('/2010-04-01/')) return 'twilio';
  if (path.startsWith('/desk/')) return 'desk';
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Phone and conversation a call concerns, from its path, query or (Twilio) form body. */
function subjectOf(
  api: CallApi,
  path: string,
  query: URLSearchParams,
  rawBody: string,
): { phone?: string; conversation?: string } {
  if (api === 'rbm') {
    const phone = safeDecode(/^\/v1\/phones\/([^/]+)/.exec(path)?.[1] ?? '');
    const agentId = query.get('agentId');
    return { phone, ...(agentId ? { conversation: `rbm:${agentId}:${phone}` } : {}) };
  }
  if (api === 'bm') return { conversation: `bm:${safeDecode(/^\/v1\/conversations\/([^/]+)/.exec(path)?.[1] ?? '')}` };
  if (api === 'desk') {
    const key = (parseJsonObject(rawBody)?.conversationKey as string | undefined) ?? '';
    const phone = key.startsWith('rbm:') ? key.slice(key.lastIndexOf(':') + 1) : undefined;
    return { ...(key ? { conversation: key } : {}), ...(phone ? { phone } : {}) };
  }
  if (api === 'twilio') {
    const to = new URLSearchParams(rawBody).get('To') ?? query.get('To') ?? undefined;
    return to ? { phone: to } : {};
  }
  return {};
}

/** The recorded body: JSON or form fields, with the OAuth assertion reduced to what is not a credential. */
function recordedBody(api: CallApi, contentType: string | undefined, raw: string): unknown {
  if (!raw) return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    const fields = Object.fromEntries(new URLSearchParams(raw));
    if (api === 'oauth' && fields.assertion) fields.assertion = '<redacted JWT>';
    return fields;
  }
  try {
    return withoutCode(JSON.parse(raw) as unknown);
  } catch {
    return raw;
  }
}

/** A sign-in's authorization code (handed to the stand-in consumer at /desk/auth-codes) is a credential: not recorded. */
export function withoutCode(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  if (typeof record.code === 'string') return { ...record, code: '<redacted>' };
  const auth = record.authenticationResponse;
  if (typeof auth === 'object' && auth !== null && typeof (auth as Record<string, unknown>).code === 'string')
    return { ...record, authenticationResponse: { ...auth, code: '<redacted>' } };
  return body;
}

function faultResponse(c: Context<SimEnv>, api: CallApi, rule: FaultRule): Response {
  const status = rule.status ?? 503;
  const headers: Record<string, string> = {};
  if (rule.retryAfterSeconds !== undefined) headers['retry-after'] = String(rule.retryAfterSeconds);
  const message = `injected fault ${rule.id}`;
  const body =
    api === 'twilio'
      ? twilioError(status, status === 429 ? 20429 : 20500, message)
      : api === 'oauth' && status < 500
        ? { error: 'invalid_grant', error_description: message }
        : googleError(status, message);
  return c.json(body, status as 500, headers);
}

export function platformMiddleware(state: SimulatorState): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const api = apiOf(url.pathname);
    if (!api) return next();

    const started = state.calls.start();
    const rawBody = c.req.method === 'GET' || c.req.method === 'HEAD' ? '' : await c.req.text();
    const subject = subjectOf(api, url.pathname, url.searchParams, rawBody);
    c.set('rawBody', rawBody);
    c.set('api', api);
    c.set('duplicate', false);
    c.set('phone', subject.phone);
    c.set('conversation', subject.conversation);

    const rule = state.faults.take({ api, method: c.req.method, path: url.pathname, ...subject });
    let answered = true;
    const hold = async () => {
      // Hold until the client gives up (its abort closes the request) or the hold limit passes.
      await state.timers.sleep(state.settings.holdMs, c.req.raw.signal);
      answered = !c.req.raw.signal.aborted && !state.timers.isClosed;
    };

    if (rule?.latencyMs) await state.timers.sleep(rule.latencyMs, c.req.raw.signal);
    if (rule && !rule.afterProcessing && rule.timeout) {
      await hold();
      c.res = c.json(googleError(504, 'held by an injected timeout'), 504);
    } else if (rule && !rule.afterProcessing && rule.status !== undefined) {
      c.res = faultResponse(c, api, rule);
    } else {
      await next();
      if (rule?.afterProcessing && rule.timeout) {
        await hold();
        // Reset first: assigning over a response would merge the handler's headers in.
        c.res = undefined;
        c.res = c.json(googleError(504, 'held by an injected timeout'), 504);
      } else if (rule?.afterProcessing && rule.status !== undefined) {
        c.res = undefined;
        c.res = faultResponse(c, api, rule);
      }
    }

    const phone = c.get('phone');
    const conversation = c.get('conversation');
    state.calls.add({
      id: started.id,
      time: started.time,
      direction: 'inbound',
      api,
      method: c.req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: recordedBody(api, c.req.header('content-type'), rawBody),
      status: answered ? c.res.status : null,
      durationMs: Date.now() - started.startedAt,
      ...(phone ? { phone } : {}),
      ...(conversation ? { conversation } : {}),
      ...(rule ? { fault: describeFault(rule) } : {}),
      ...(c.get('duplicate') ? { duplicate: true } : {}),
    });
  };
}

/** Checks the bearer token on RBM and Business Messages calls against the tokens the simulator issued. */
export function requireGoogleToken(state: SimulatorState, scope: string): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    if (!state.settings.requireAuth) return next();
    const verdict = state.tokens.check(c.req.header('authorization'), scope);
    if (verdict === 'unauthenticated') {
      return c.json(
        googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token.'),
        401,
        { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
      );
    }
    if (verdict === 'insufficient_scope')
      return c.json(googleError(403, 'Request had insufficient authentication scopes.'), 403);
    return next();
  };
}
