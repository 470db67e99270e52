/**
 * `npm run sim -- <command>`: drive a running simulator from a terminal (act as a user, set up
 * phones and faults, look at recorded calls). A thin client of the /sim/ HTTP API.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';

const HELP = `Usage: npm run sim -- <command> [args] [options]

Acting as a user (<to> is an E.164 number for RBM, or bm:<conversationId> for Business Messages):
  text <to> <words...>                 send a text message
  image <to> <url>                     send an image (RBM file / BM signed-URL text)
  file <to> <url> [--mime m] [--file-name n]
  location <+E164> <lat> <lng>         share a location (RBM)
  reply <to> <postbackData> [text...]  tap a suggested reply
  action <to> <postbackData> [text...] tap a suggested action
  typing <to> [--stop]                 typing indicator
  live-agent bm:<conversationId>       ask for a human (BM)
  subscribe|unsubscribe <+E164>        RBM SUBSCRIBE / UNSUBSCRIBE events
  options: --agent <agentId|brands/../agents/..>  --locale <bcp47>  --name <displayName>  --place <placeId>

Platform behaviour:
  phone <+E164> [--rcs yes|no] [--online yes|no] [--deliver-after-ms N|never]
        [--read-after-ms N|never] [--ttl-outcome revoked|revoke_failed]
  conversation <id> [--reachable yes|no] [--online yes|no] [--deliver-after-ms ..] [--read-after-ms ..]
  defaults [same options as phone]     change every device's default
  deliver|read <messageId>             deliver or read an agent message now
  fault [--api rbm|bm|twilio|oauth] [--path agentMessages] [--phone +E164] [--conversation key]
        [--status 503] [--retry-after S] [--latency-ms N] [--timeout] [--after] [--times N] [--probability 0.5]
  faults [clear]                       list or clear faults
  revoke-tokens                        next API call gets 401

Inspecting:
  calls [--phone P] [--conversation K] [--api A] [--last N] [--json]
  messages [--phone P] [--conversation K]
  reset                                forget calls, messages, faults, device settings

Global: --url <simulator base URL> (default SIMULATOR_PUBLIC_URL or http://SIMULATOR_HOST:SIMULATOR_PORT)`;

const options = {
  url: { type: 'string' },
  agent: { type: 'string' },
  locale: { type: 'string' },
  name: { type: 'string' },
  place: { type: 'string' },
  mime: { type: 'string' },
  'file-name': { type: 'string' },
  stop: { type: 'boolean' },
  rcs: { type: 'string' },
  reachable: { type: 'string' },
  online: { type: 'string' },
  'deliver-after-ms': { type: 'string' },
  'read-after-ms': { type: 'string' },
  'ttl-outcome': { type: 'string' },
  api: { type: 'string' },
  path: { type: 'string' },
  phone: { type: 'string' },
  conversation: { type: 'string' },
  status: { type: 'string' },
  'retry-after': { type: 'string' },
  'latency-ms': { type: 'string' },
  timeout: { type: 'boolean' },
  after: { type: 'boolean' },
  times: { type: 'string' },
  probability: { type: 'string' },
  last: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

class UsageError extends Error {}

const yesNo = (v: string | undefined) => (v === undefined ? undefined : ['yes', 'true', '1', 'on'].includes(v.toLowerCase()));
const delay = (v: string | undefined) => (v === undefined ? undefined : v === 'never' ? null : Number(v));
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

function clean(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function profilePatch(v: Values): Record<string, unknown> {
  return clean({
    reachable: yesNo(v.reachable) ?? yesNo(v.rcs),
    online: yesNo(v.online),
    deliverAfterMs: delay(v['deliver-after-ms']),
    readAfterMs: delay(v['read-after-ms']),
    ttlOutcome: v['ttl-outcome'],
  });
}

function need(args: string[], count: number, usage: string): string[] {
  if (args.length < count) throw new UsageError(`usage: npm run sim -- ${usage}`);
  return args;
}

/** `/sim/users/{rbm|bm}/{id}` for a CLI recipient. */
function userPath(to: string): string {
  if (to.startsWith('bm:')) return `/sim/users/bm/${encodeURIComponent(to.slice(3))}`;
  if (/^\+[1-9]\d{6,14}$/.test(to)) return `/sim/users/rbm/${encodeURIComponent(to)}`;
  throw new UsageError(`recipient must be +E164 (RBM) or bm:<conversationId>, got ${to}`);
}

function userExtras(v: Values, to: string): Record<string, unknown> {
  const bm = to.startsWith('bm:');
  const context = clean({ locale: v.locale, displayName: v.name, placeId: v.place });
  return clean({ [bm ? 'agent' : 'agentId']: v.agent, ...(bm && Object.keys(context).length > 0 ? { context } : {}) });
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(new URL(path, base), { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return parsed;
}

function printCalls(result: unknown, v: Values): void {
  const calls = ((result as { calls?: Record<string, unknown>[] }).calls ?? []).slice(-(num(v.last) ?? 50));
  if (v.json) return console.log(JSON.stringify(calls, null, 2));
  for (const c of calls) {
    const arrow = c.direction === 'webhook' ? '→ webhook' : '← inbound';
    const extras = [c.duplicate ? 'duplicate' : '', c.fault ? `fault: ${String(c.fault)}` : '', c.attempt && Number(c.attempt) > 1 ? `attempt ${String(c.attempt)}` : '', c.error ? `error: ${String(c.error)}` : ''].filter(Boolean).join('; ');
    console.log(`#${String(c.id)} ${String(c.time).slice(11, 23)} ${arrow} ${String(c.api)} ${String(c.method)} ${String(c.path)} → ${c.status === null ? 'no answer' : String(c.status)}${extras ? `  (${extras})` : ''}`);
  }
}

async function run(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [command, ...args] = positionals;
  if (!command || v.help) return console.log(HELP);
  const env = loadConfig().env;
  const base = v.url ?? env.SIMULATOR_PUBLIC_URL ?? `http://${env.SIMULATOR_HOST}:${env.SIMULATOR_PORT}`;
  const show = (x: unknown) => console.log(JSON.stringify(x, null, 2));

  switch (command) {
    case 'text': {
      const [to, ...words] = need(args, 2, 'text <to> <words...>') as [string, ...string[]];
      return show(await call(base, 'POST', `${userPath(to)}/text`, { text: words.join(' '), ...userExtras(v, to) }));
    }
    case 'image':
    case 'file': {
      const [to, url] = need(args, 2, `${command} <to> <url>`) as [string, string];
      return show(await call(base, 'POST', `${userPath(to)}/${command}`, clean({ url, mimeType: v.mime, fileName: v['file-name'], ...userExtras(v, to) })));
    }
    case 'location': {
      const [to, lat, lng] = need(args, 3, 'location <+E164> <lat> <lng>') as [string, string, string];
      return show(await call(base, 'POST', `${userPath(to)}/location`, { latitude: Number(lat), longitude: Number(lng), ...userExtras(v, to) }));
    }
    case 'reply':
    case 'action': {
      const [to, postbackData, ...words] = need(args, 2, `${command} <to> <postbackData> [text...]`) as [string, string, ...string[]];
      return show(await call(base, 'POST', `${userPath(to)}/${command}`, clean({ postbackData, text: words.length > 0 ? words.join(' ') : undefined, ...userExtras(v, to) })));
    }
    case 'typing': {
      const [to] = need(args, 1, 'typing <to> [--stop]') as [string];
      return show(await call(base, 'POST', `${userPath(to)}/typing`, { isTyping: !v.stop, ...userExtras(v, to) }));
    }
    case 'live-agent':
    case 'subscribe':
    case 'unsubscribe': {
      const [to] = need(args, 1, `${command} <to>`) as [string];
      return show(await call(base, 'POST', `${userPath(to)}/${command}`, userExtras(v, to)));
    }
    case 'phone': {
      const [msisdn] = need(args, 1, 'phone <+E164> [options]') as [string];
      const patch = profilePatch(v);
      return show(await call(base, Object.keys(patch).length > 0 ? 'PUT' : 'GET', `/sim/phones/${encodeURIComponent(msisdn)}`, Object.keys(patch).length > 0 ? patch : undefined));
    }
    case 'conversation': {
      const [id] = need(args, 1, 'conversation <conversationId> [options]') as [string];
      const patch = profilePatch(v);
      return show(await call(base, Object.keys(patch).length > 0 ? 'PUT' : 'GET', `/sim/conversations/${encodeURIComponent(id.replace(/^bm:/, ''))}`, Object.keys(patch).length > 0 ? patch : undefined));
    }
    case 'defaults':
      return show(await call(base, 'PUT', '/sim/defaults', profilePatch(v)));
    case 'deliver':
    case 'read': {
      const [messageId] = need(args, 1, `${command} <messageId>`) as [string];
      return show(await call(base, 'POST', `/sim/messages/${encodeURIComponent(messageId)}/${command}`));
    }
    case 'fault':
      return show(
        await call(
          base,
          'POST',
          '/sim/faults',
          clean({
            api: v.api,
            pathContains: v.path,
            phone: v.phone,
            conversation: v.conversation,
            status: num(v.status),
            retryAfterSeconds: num(v['retry-after']),
            latencyMs: num(v['latency-ms']),
            timeout: v.timeout,
            afterProcessing: v.after,
            times: num(v.times),
            probability: num(v.probability),
          }),
        ),
      );
    case 'faults':
      return show(await call(base, args[0] === 'clear' ? 'DELETE' : 'GET', '/sim/faults'));
    case 'revoke-tokens':
      return show(await call(base, 'POST', '/sim/tokens/revoke'));
    case 'calls': {
      const q = new URLSearchParams(clean({ phone: v.phone, conversation: v.conversation, api: v.api }) as Record<string, string>);
      return printCalls(await call(base, 'GET', `/sim/calls?${q.toString()}`), v);
    }
    case 'messages': {
      const q = new URLSearchParams(clean({ phone: v.phone, conversation: v.conversation }) as Record<string, string>);
      return show(await call(base, 'GET', `/sim/messages?${q.toString()}`));
    }
    case 'reset':
      return show(await call(base, 'POST', '/sim/reset'));
    default:
      throw new UsageError(`unknown command ${command}\n\n${HELP}`);
  }
}

run(process.argv.slice(2)).catch((err: unknown) => {
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  console.error(err instanceof Error ? `${err.message}${cause}` : err);
  process.exit(err instanceof UsageError ? 2 : 1);
});
