/**
 * `npx switchboard-sim <command>` (or `npm run sim -- <command>`): drive a running simulator from a
 * terminal (act as a user, set up phones and faults, look at recorded calls). A thin client of the
 * /sim/ HTTP API. Exit codes: 0 done, 1 the simulator refused or could not be reached, 2 usage.
 */
import { parseArgs } from 'node:util';

import { loadConfig } from '../../src/config';

const USER_OPTIONS =
  'options: --agent <agentId|brands/../agents/..>  --locale <bcp47>  --name <displayName>  --place <placeId>';
const PROFILE_OPTIONS =
  'options: --rcs yes|no  --online yes|no  --deliver-after-ms N|never  --read-after-ms N|never  --ttl-outcome revoked|revoke_failed';

/** Each command's usage line, what it does, and the options it reads (shown by `<command> --help`). */
const COMMANDS: Record<string, { usage: string; does: string; options?: string }> = {
  text: { usage: 'text <to> <words...>', does: 'send a text message', options: USER_OPTIONS },
  image: { usage: 'image <to> <url>', does: 'send an image (RBM file / BM signed-URL text)', options: USER_OPTIONS },
  file: { usage: 'file <to> <url> [--mime m] [--file-name n]', does: 'send a file', options: USER_OPTIONS },
  location: { usage: 'location <+E164> <lat> <lng>', does: 'share a location (RBM)', options: USER_OPTIONS },
  reply: { usage: 'reply <to> <postbackData> [text...]', does: 'tap a suggested reply', options: USER_OPTIONS },
  action: { usage: 'action <to> <postbackData> [text...]', does: 'tap a suggested action', options: USER_OPTIONS },
  typing: { usage: 'typing <to> [--stop]', does: 'typing indicator (--stop: stopped typing)', options: USER_OPTIONS },
  'live-agent': { usage: 'live-agent bm:<conversationId>', does: 'ask for a human (BM)', options: USER_OPTIONS },
  subscribe: { usage: 'subscribe <+E164>', does: 'RBM SUBSCRIBE event' },
  unsubscribe: { usage: 'unsubscribe <+E164>', does: 'RBM UNSUBSCRIBE event' },
  phone: {
    usage: 'phone <+E164> [options]',
    does: "show a phone's settings, or change them",
    options: PROFILE_OPTIONS,
  },
  conversation: {
    usage: 'conversation <id> [options]',
    does: "show a BM conversation's settings, or change them",
    options: PROFILE_OPTIONS.replace('--rcs yes|no', '--reachable yes|no'),
  },
  defaults: { usage: 'defaults [options]', does: "change every device's default", options: PROFILE_OPTIONS },
  deliver: { usage: 'deliver <messageId>', does: 'deliver an agent message now' },
  read: { usage: 'read <messageId>', does: 'read an agent message now' },
  fault: {
    usage: 'fault [options]',
    does: 'make the next matching platform calls fail or slow down',
    options:
      'options: --api rbm|bm|twilio|oauth  --path agentMessages  --phone +E164  --conversation key  --status 503  --retry-after S\n         --latency-ms N  --timeout  --after (fail after processing)  --times N  --probability 0.5',
  },
  faults: { usage: 'faults [clear]', does: 'list or clear faults' },
  'revoke-tokens': { usage: 'revoke-tokens', does: 'the next API call gets 401' },
  calls: {
    usage: 'calls [--phone P] [--conversation K] [--api A] [--last N] [--json]',
    does: 'recorded calls, oldest first',
  },
  messages: { usage: 'messages [--phone P] [--conversation K]', does: 'agent messages and their state' },
  reset: { usage: 'reset', does: 'forget calls, messages, faults, device settings' },
};

const GROUPS: [string, string[]][] = [
  [
    'Acting as a user (<to> is an E.164 number for RBM, or bm:<conversationId> for Business Messages)',
    ['text', 'image', 'file', 'location', 'reply', 'action', 'typing', 'live-agent', 'subscribe', 'unsubscribe'],
  ],
  ['Platform behaviour', ['phone', 'conversation', 'defaults', 'deliver', 'read', 'fault', 'faults', 'revoke-tokens']],
  ['Inspecting', ['calls', 'messages', 'reset']],
];

const GLOBAL =
  'Global: --url <simulator base URL> (default SIMULATOR_PUBLIC_URL or http://SIMULATOR_HOST:SIMULATOR_PORT)';

const HELP = [
  'Usage: npx switchboard-sim <command> [args] [options]   (or: npm run sim -- <command> ...)',
  ...GROUPS.flatMap(([title, names]) => [
    '',
    `${title}:`,
    ...names.map((n) => `  ${(COMMANDS[n]?.usage ?? n).padEnd(68)} ${COMMANDS[n]?.does ?? ''}`),
  ]),
  '',
  `${USER_OPTIONS}  (user commands)`,
  '',
  '`npx switchboard-sim <command> --help` shows one command.',
  GLOBAL,
].join('\n');

/** One command's help. */
function commandHelp(name: string): string {
  const command = COMMANDS[name];
  if (!command) return HELP;
  return [
    `Usage: npx switchboard-sim ${command.usage}`,
    '',
    command.does,
    ...(command.options ? ['', command.options] : []),
    '',
    GLOBAL,
  ].join('\n');
}

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

/** A mistake in the command line: exit code 2. */
class UsageError extends Error {}

/** The simulator answered with an error status: shown as that status and its message. */
class SimulatorError extends Error {}

const yesNo = (v: string | undefined) =>
  v === undefined ? undefined : ['yes', 'true', '1', 'on'].includes(v.toLowerCase());
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
  if (args.length < count) throw new UsageError(`usage: npx switchboard-sim ${usage}`);
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
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new SimulatorError(
      `no simulator at ${base} (${err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)}); is npm start running, or is --url right?`,
    );
  }
  const text = await res.text();
  if (!res.ok)
    throw new SimulatorError(
      `${method} ${path}: ${res.status} ${res.statusText}${text ? `: ${errorMessageOf(text)}` : ''}`,
    );
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    throw new SimulatorError(`${method} ${path}: ${res.status}, but the answer is not JSON: ${text.slice(0, 200)}`);
  }
}

/** The `error` (or `message`) of a JSON error body, else the body itself. */
function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const message = body.error ?? body.message;
    if (typeof message === 'string') return message;
    if (message && typeof message === 'object' && typeof (message as { message?: unknown }).message === 'string')
      return (message as { message: string }).message;
  } catch {
    // Not JSON: the text is the message.
  }
  return text.slice(0, 500);
}

function printCalls(result: unknown, v: Values): void {
  const calls = ((result as { calls?: Record<string, unknown>[] }).calls ?? []).slice(-(num(v.last) ?? 50));
  if (v.json) return console.log(JSON.stringify(calls, null, 2));
  for (const c of calls) {
    const arrow = c.direction === 'webhook' ? '→ webhook' : '← inbound';
    const extras = [
      c.duplicate ? 'duplicate' : '',
      c.fault ? `fault: ${String(c.fault)}` : '',
      c.attempt && Number(c.attempt) > 1 ? `attempt ${String(c.attempt)}` : '',
      c.error ? `error: ${String(c.error)}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    console.log(
      `#${String(c.id)} ${String(c.time).slice(11, 23)} ${arrow} ${String(c.api)} ${String(c.method)} ${String(c.path)} → ${c.status === null ? 'no answer' : String(c.status)}${extras ? `  (${extras})` : ''}`,
    );
  }
}

async function run(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  }
  const { values: v, positionals } = parsed;
  const [command, ...args] = positionals;
  if (!command) return console.log(HELP);
  if (command === 'help') return console.log(args[0] ? commandHelp(args[0]) : HELP);
  if (v.help) return console.log(commandHelp(command));
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
      return show(
        await call(
          base,
          'POST',
          `${userPath(to)}/${command}`,
          clean({ url, mimeType: v.mime, fileName: v['file-name'], ...userExtras(v, to) }),
        ),
      );
    }
    case 'location': {
      const [to, lat, lng] = need(args, 3, 'location <+E164> <lat> <lng>') as [string, string, string];
      return show(
        await call(base, 'POST', `${userPath(to)}/location`, {
          latitude: Number(lat),
          longitude: Number(lng),
          ...userExtras(v, to),
        }),
      );
    }
    case 'reply':
    case 'action': {
      const [to, postbackData, ...words] = need(args, 2, `${command} <to> <postbackData> [text...]`) as [
        string,
        string,
        ...string[],
      ];
      return show(
        await call(
          base,
          'POST',
          `${userPath(to)}/${command}`,
          clean({ postbackData, text: words.length > 0 ? words.join(' ') : undefined, ...userExtras(v, to) }),
        ),
      );
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
      return show(
        await call(
          base,
          Object.keys(patch).length > 0 ? 'PUT' : 'GET',
          `/sim/phones/${encodeURIComponent(msisdn)}`,
          Object.keys(patch).length > 0 ? patch : undefined,
        ),
      );
    }
    case 'conversation': {
      const [id] = need(args, 1, 'conversation <conversationId> [options]') as [string];
      const patch = profilePatch(v);
      return show(
        await call(
          base,
          Object.keys(patch).length > 0 ? 'PUT' : 'GET',
          `/sim/conversations/${encodeURIComponent(id.replace(/^bm:/, ''))}`,
          Object.keys(patch).length > 0 ? patch : undefined,
        ),
      );
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
      const q = new URLSearchParams(
        clean({ phone: v.phone, conversation: v.conversation, api: v.api }) as Record<string, string>,
      );
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
