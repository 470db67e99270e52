/**
 * A Business Messages sign-in's authorization code is used and dropped: the API hands it to
 * AUTH_CODE_URL (here the simulator's stand-in sign-in backend, over real HTTP, checking the
 * signature) and the conversation learns only what became of it. After a sign-in with a unique
 * code, the code is in none of: the raw history (`temporal workflow show --output json`, no
 * codec; this harness writes payloads in clear, so a code in any payload would be plainly
 * visible), the state query, the API's answers (webhook, state, transcript, unrecognized
 * payloads), the logs. Shared dev server, createApp, a real worker with the example routing file.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { readTemporalBinaries } from '../../dev/binaries';
import { pollUntil } from '../../dev/poll';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/server';
import { bmConversationKey } from '../../src/domain/conversation-key';
import { type InboundEvent } from '../../src/domain/inbound';
import { createLogger } from '../../src/logger';
import {
  type ConversationView,
  inboundEventsSignal,
  type UnrecognizedPayloadView,
} from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { signedBmRequest } from '../helpers/signing';
import { createDevServerEnv, devServerAddress } from '../helpers/temporal';
import { API_TOKEN, BM_TOKEN, type Harness, startHarness } from './harness';

const run = promisify(execFile);
const SECRET = 'auth-code-test-consumer-secret';
const AGENT = 'brands/auth-brand/agents/auth-agent';
const OTHER_AGENT = 'brands/other-brand/agents/other-agent';
const OTHER_TOKEN = 'auth-test-other-agent-token';
const SIGNED_IN = "You're signed in. How can I help?";
const FAILED = "Sorry, sign-in didn't work. Would you like to try again?";

let env: TestWorkflowEnvironment;
let consumer: RunningSimulator;
let h: Harness;
const recorded = recordingActivities();
const logLines: string[] = [];

beforeAll(async () => {
  env = await createDevServerEnv();
  consumer = await startSimulator({ authCodeSecret: SECRET });
  h = await startHarness(env, {
    env: {
      AUTH_CODE_URL: `${consumer.url}/desk/auth-codes`,
      AUTH_CODE_SECRET: SECRET,
      BM_CLIENT_TOKENS: JSON.stringify({ [OTHER_AGENT]: OTHER_TOKEN }),
    },
    routing: exampleRouting(),
    activities: recorded.activities,
    logger: createLogger('debug', {}, (line) => logLines.push(line)),
  });
});
afterAll(async () => {
  await h?.stop();
  await consumer?.close();
  await env?.teardown();
});

const uniqueCode = () => `4/0AY-${randomUUID()}-${randomUUID().slice(0, 8)}`;

function signIn(
  conversationId: string,
  authenticationResponse: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    agent: AGENT,
    conversationId,
    requestId: `req-${randomUUID()}`,
    sendTime: new Date().toISOString(),
    authenticationResponse: { redirectUri: 'https://business.google.com/callback', ...authenticationResponse },
    ...extra,
  };
}

const api = async (path: string, init: RequestInit = {}) => {
  const res = await h.app.request(path, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(init.headers as Record<string, string> | undefined) },
  });
  return { status: res.status, text: await res.text() };
};

/** The history as `temporal workflow show --output json` prints it without a codec, with every base64 payload decoded next to it. */
async function rawHistory(workflowId: string): Promise<string> {
  const { stdout } = await run(
    readTemporalBinaries().cli,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--address',
      devServerAddress(),
      '--namespace',
      'default',
      '--output',
      'json',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const decoded: string[] = [];
  JSON.parse(stdout, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return `${stdout}\n${decoded.join('\n')}`;
}

const authEvent = (state: ConversationView) =>
  state.events.find(
    (e): e is Extract<InboundEvent, { type: 'message' }> => e.type === 'message' && e.content.kind === 'auth',
  );
const repliesTo = (key: string) =>
  recorded.callsTo('sendMessage').filter((a) => (a as { conversationKey: string }).conversationKey === key) as {
    content: { text?: string };
  }[];

test('the code goes to AUTH_CODE_URL once and nowhere else: not the history, the state, the API, the logs', async () => {
  const conversationId = randomUUID();
  const key = bmConversationKey(conversationId);
  const code = uniqueCode();
  const payload = signIn(conversationId, { code });
  const { body, headers } = signedBmRequest(BM_TOKEN, payload);

  const res = await h.post('/webhooks/bm', body, headers);
  expect(res.status).toBe(200);
  const answer = await res.text();
  expect(JSON.parse(answer)).toMatchObject({ status: 'accepted', events: 1 });

  // The consumer has it, with the delivery's requestId and conversation (its signature checked with AUTH_CODE_SECRET).
  expect(consumer.sim.authCodes()).toContainEqual({
    requestId: payload.requestId,
    conversationKey: key,
    code,
    redirectUri: 'https://business.google.com/callback',
  });

  const state = await h.stateWhen(key, (s) => s.history.some((e) => e.direction === 'outbound'));
  expect(authEvent(state)?.content).toEqual({
    kind: 'auth',
    codeOutcome: 'handed_over',
    redirectUri: 'https://business.google.com/callback',
  });
  await pollUntil({
    what: 'the sign-in reply',
    read: async () => repliesTo(key),
    done: (r) => r.length > 0,
    intervalMs: 100,
  });
  expect(repliesTo(key)[0]?.content.text).toBe(SIGNED_IN);

  // Google redelivers the same response: the consumer already has it (409 counts as handed over), the conversation dedupes.
  expect((await h.post('/webhooks/bm', body, headers)).status).toBe(200);
  expect(consumer.sim.authCodes().filter((c) => c.requestId === payload.requestId)).toHaveLength(1);

  const workflowId = h.conversations.workflowId(key);
  const history = await rawHistory(workflowId);
  expect(history).toContain(inboundEventsSignal.name);
  expect(history).toContain('handed_over');
  expect(history).not.toContain(code);
  expect(JSON.stringify(await h.conversations.getState(key))).not.toContain(code);
  for (const path of [
    `/v1/conversations/${encodeURIComponent(key)}`,
    `/v1/conversations/${encodeURIComponent(key)}/history`,
  ]) {
    const read = await api(path);
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(code);
  }
  expect(answer).not.toContain(code);
  expect(logLines.join('\n')).not.toContain(code);
  // The simulator's own call log redacts it too.
  expect(JSON.stringify(consumer.sim.calls())).not.toContain(code);
});

test('a consumer that refuses the code: the user is offered to try again, and the code is still nowhere', async () => {
  const conversationId = randomUUID();
  const key = bmConversationKey(conversationId);
  const code = uniqueCode();
  const fault = consumer.sim.addFault({ api: 'desk', pathContains: 'auth-codes', status: 500, times: 1 });
  const { body, headers } = signedBmRequest(BM_TOKEN, signIn(conversationId, { code }));
  const res = await h.post('/webhooks/bm', body, headers);
  expect(res.status).toBe(200);
  expect(consumer.sim.calls({ api: 'desk' }).some((c) => c.fault?.includes(fault.id))).toBe(true);

  const state = await h.stateWhen(key, (s) => s.history.some((e) => e.direction === 'outbound'));
  expect(authEvent(state)?.content).toMatchObject({ kind: 'auth', codeOutcome: 'not_handed_over' });
  await pollUntil({
    what: 'the retry offer',
    read: async () => repliesTo(key),
    done: (r) => r.length > 0,
    intervalMs: 100,
  });
  expect(repliesTo(key)[0]?.content.text).toBe(FAILED);
  expect(await rawHistory(h.conversations.workflowId(key))).not.toContain(code);
  expect(logLines.join('\n')).not.toContain(code);
});

test('a signed sign-in that is kept instead of delivered (a schema violation beside it) is kept without its code, and cannot be replayed', async () => {
  const conversationId = randomUUID();
  const code = uniqueCode();
  const { body, headers } = signedBmRequest(
    BM_TOKEN,
    signIn(conversationId, { code }, { context: { userInfo: { displayName: 42 } } }),
  );
  const res = await h.post('/webhooks/bm', body, headers);
  expect(res.status).toBe(200);
  const stored = (await res.json()) as { status: string; id: string };
  expect(stored.status).toBe('stored');
  expect(consumer.sim.authCodes().some((c) => c.code === code)).toBe(false);

  const read = await api(`/v1/unrecognized-payloads/${stored.id}`);
  expect(read.status).toBe(200);
  const view = JSON.parse(read.text) as UnrecognizedPayloadView;
  expect(view.credentialsRemoved).toBe(true);
  const kept = Buffer.from(view.bodyBase64, 'base64').toString('utf8');
  expect(kept).toContain('"code":"[removed]"');
  expect(kept).not.toContain(code);
  expect(read.text).not.toContain(code);
  expect(await rawHistory(h.store.workflowId(stored.id))).not.toContain(code);
  const replay = await api(`/v1/unrecognized-payloads/${stored.id}/replay`, { method: 'POST' });
  expect(replay.status).toBe(409);
  expect(JSON.parse(replay.text)).toMatchObject({ error: { code: 'credentials_removed' } });
});

test('a sign-in signed by another agent for a conversation bound to this one: kept without its code, and the code never reaches the consumer', async () => {
  const conversationId = randomUUID();
  const key = bmConversationKey(conversationId);
  const opened = signedBmRequest(OTHER_TOKEN, {
    agent: OTHER_AGENT,
    conversationId,
    requestId: `req-${randomUUID()}`,
    message: { messageId: `m-${randomUUID()}`, text: 'hello' },
  });
  expect((await h.post('/webhooks/bm', opened.body, opened.headers)).status).toBe(200);
  await h.stateWhen(key, (s) => s.events.length === 1);

  const code = uniqueCode();
  const { body, headers } = signedBmRequest(BM_TOKEN, signIn(conversationId, { code }));
  const res = await h.post('/webhooks/bm', body, headers);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({
    status: 'stored',
    reason: expect.stringContaining('belongs to another Business Messages agent'),
  });
  expect(consumer.sim.authCodes().some((c) => c.code === code)).toBe(false);
  expect(await rawHistory(h.conversations.workflowId(key))).not.toContain(code);
});

test('an older API that still signals the code: the workflow keeps the outcome, not the code, and answers as before', async () => {
  const conversationId = randomUUID();
  const key = bmConversationKey(conversationId);
  const code = uniqueCode();
  const legacy = {
    type: 'message',
    channel: 'bm',
    conversationKey: key,
    messageId: `req-${randomUUID()}`,
    dedupeKey: `req-${randomUUID()}`,
    receivedAt: new Date().toISOString(),
    content: { kind: 'auth', code, redirectUri: 'https://business.google.com/callback' },
  };
  await h.client.workflow.signalWithStart('conversationWorkflow', {
    ...h.conversations.deliveryOptions(key, [legacy as unknown as InboundEvent]),
  });

  const state = await h.stateWhen(key, (s) => s.history.some((e) => e.direction === 'outbound'));
  expect(authEvent(state)?.content).toEqual({
    kind: 'auth',
    codeOutcome: 'dropped',
    redirectUri: 'https://business.google.com/callback',
  });
  expect(JSON.stringify(state)).not.toContain(code);
  await pollUntil({
    what: 'the sign-in reply',
    read: async () => repliesTo(key),
    done: (r) => r.length > 0,
    intervalMs: 100,
  });
  expect(repliesTo(key)[0]?.content.text).toBe(SIGNED_IN);
  const transcript = await api(`/v1/conversations/${encodeURIComponent(key)}/history`);
  expect(transcript.status).toBe(200);
  expect(transcript.text).not.toContain(code);
});

test('an entry kept with its code before codes were removed on the way in: GET never returns the code, a replay still hands it over', async () => {
  const conversationId = randomUUID();
  const code = uniqueCode();
  const payload = signIn(conversationId, { code });
  const { body, headers } = signedBmRequest(BM_TOKEN, payload);
  const id = randomUUID().replace(/-/g, '');
  // As an older build kept it: the exact signed bytes, code included.
  await h.store.keep(
    {
      id,
      channel: 'bm',
      kind: 'bm.authenticationResponse',
      reason: 'kept by an older build',
      receivedAt: new Date().toISOString(),
      bodyBase64: Buffer.from(body).toString('base64'),
      headers: { 'x-goog-signature': headers['x-goog-signature'] ?? '', 'content-type': 'application/json' },
    },
    { at: new Date().toISOString() },
  );

  const read = await api(`/v1/unrecognized-payloads/${id}`);
  expect(read.status).toBe(200);
  expect(read.text).not.toContain(code);
  expect(JSON.parse(read.text)).toMatchObject({ credentialsRemoved: true });

  const replay = await api(`/v1/unrecognized-payloads/${id}/replay`, { method: 'POST' });
  expect(replay.status).toBe(200);
  expect(JSON.parse(replay.text)).toMatchObject({ resolved: true });
  expect(replay.text).not.toContain(code);
  expect(consumer.sim.authCodes()).toContainEqual(expect.objectContaining({ requestId: payload.requestId, code }));
});
