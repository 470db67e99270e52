/**
 * Business Messages tenant isolation: a conversation belongs to the agent whose credential signed
 * the delivery that started it. A body signed with agent A's token that names agent B's
 * conversationId is kept for an operator (200 stored, Google's contract) and never reaches B's
 * conversation. Workflow IDs are unchanged (`conv-bm-{conversationId}`), so conversations that
 * were running before the binding keep working. Shared dev server, real worker.
 */
import { randomUUID } from 'node:crypto';

import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { pollUntil } from '../../dev/poll';
import { bmConversationKey } from '../../src/domain/conversation-key';
import { OWNER_MEMO } from '../../src/temporal-client/conversations';
import { signedBmRequest } from '../helpers/signing';
import { createDevServerEnv } from '../helpers/temporal';
import { API_TOKEN, BM_TOKEN, type Harness, startHarness } from './harness';

const AGENT_A = 'brands/brand-a/agents/agent-a';
const AGENT_B = 'brands/brand-b/agents/agent-b';
const TOKEN_A = 'bm-agent-a-client-token';
const TOKEN_B = 'bm-agent-b-client-token';

let env: TestWorkflowEnvironment;
let h: Harness;

beforeAll(async () => {
  env = await createDevServerEnv();
  h = await startHarness(env, {
    env: { BM_CLIENT_TOKENS: JSON.stringify({ [AGENT_A]: TOKEN_A, [AGENT_B]: TOKEN_B }) },
    settings: { idleTimeout: '3 seconds', continueAsNewAfterEvents: 12 },
  });
});
afterAll(async () => {
  await h?.stop();
  await env?.teardown();
});

function message(agent: string, conversationId: string, text: string) {
  return {
    agent,
    conversationId,
    requestId: `req-${randomUUID()}`,
    sendTime: new Date().toISOString(),
    message: { messageId: `m-${randomUUID()}`, text },
  };
}

async function post(token: string, payload: ReturnType<typeof message>) {
  const { body, headers } = signedBmRequest(token, payload);
  const res = await h.post('/webhooks/bm', body, headers);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; reason?: string };
}

const texts = async (conversationId: string) => {
  const state = await h.conversations.getState(bmConversationKey(conversationId));
  return (state?.events ?? []).flatMap((e) =>
    e.type === 'message' && e.content.kind === 'text' ? [e.content.text] : [],
  );
};

test("a body signed with agent B's token naming agent A's conversation is kept, not delivered into it", async () => {
  const conversationId = randomUUID();
  expect(await post(TOKEN_A, message(AGENT_A, conversationId, 'from A'))).toMatchObject({ status: 'accepted' });
  await h.stateWhen(bmConversationKey(conversationId), (s) => s.events.length === 1);

  // B's own agent name, B's token, A's conversation.
  const intruder = await post(TOKEN_B, message(AGENT_B, conversationId, 'from B'));
  expect(intruder).toMatchObject({ status: 'stored' });
  expect(intruder.reason).toContain('belongs to another Business Messages agent');

  expect((await post(TOKEN_A, message(AGENT_A, conversationId, 'A again'))).status).toBe('accepted');
  await h.stateWhen(bmConversationKey(conversationId), (s) => s.events.length === 2);
  expect(await texts(conversationId)).toEqual(['from A', 'A again']);
});

test('a conversation started under the default token is closed to an agent with a token of its own', async () => {
  const conversationId = randomUUID();
  expect((await post(BM_TOKEN, message('brands/x/agents/shared', conversationId, 'shared'))).status).toBe('accepted');
  expect((await post(TOKEN_A, message(AGENT_A, conversationId, 'from A'))).status).toBe('stored');
  await h.stateWhen(bmConversationKey(conversationId), (s) => s.events.length === 1);
  expect(await texts(conversationId)).toEqual(['shared']);
});

test('two agents racing to open the same conversation: one owns it, the other is kept', async () => {
  const conversationId = randomUUID();
  const [a, b] = await Promise.all([
    post(TOKEN_A, message(AGENT_A, conversationId, 'A first')),
    post(TOKEN_B, message(AGENT_B, conversationId, 'B first')),
  ]);
  expect([a.status, b.status].sort()).toEqual(['accepted', 'stored']);
  const winner = a.status === 'accepted' ? 'A first' : 'B first';
  await h.stateWhen(bmConversationKey(conversationId), (s) => s.events.length === 1);
  expect(await texts(conversationId)).toEqual([winner]);
});

test('the binding outlives continue-as-new and the run closing on idle', async () => {
  const conversationId = randomUUID();
  const key = bmConversationKey(conversationId);
  const handle = h.client.workflow.getHandle(h.conversations.workflowId(key));
  const firstRun = (await post(TOKEN_A, message(AGENT_A, conversationId, 'm-0')), await handle.describe()).runId;
  // Every message is a few history events; 12 events force a continue-as-new within a handful.
  for (let i = 1; i < 6; i++)
    expect((await post(TOKEN_A, message(AGENT_A, conversationId, `m-${i}`))).status).toBe('accepted');
  await pollUntil({
    what: 'a continue-as-new',
    read: () => handle.describe(),
    done: (d) => d.runId !== firstRun,
    intervalMs: 100,
  });
  expect((await handle.describe()).memo?.[OWNER_MEMO]).toBe(`agent:${AGENT_A}`);
  expect((await post(TOKEN_B, message(AGENT_B, conversationId, 'B after continue-as-new'))).status).toBe('stored');

  // Idle timeout (3 s): the conversation goes dormant (continues as new, status closed); a new message by B still finds A's binding, A's reopens it.
  await pollUntil({
    what: 'the conversation to go dormant',
    read: () => handle.describe(),
    done: (d) => (d.searchAttributes as Record<string, unknown[] | undefined>).SwitchboardStatus?.[0] === 'closed',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  expect((await post(TOKEN_B, message(AGENT_B, conversationId, 'B after close'))).status).toBe('stored');
  expect((await post(TOKEN_A, message(AGENT_A, conversationId, 'A reopens'))).status).toBe('accepted');
  await pollUntil({
    what: 'the reopened run',
    read: () => handle.describe(),
    done: (d) => d.status.name === 'RUNNING',
    intervalMs: 100,
  });
  expect((await handle.describe()).memo?.[OWNER_MEMO]).toBe(`agent:${AGENT_A}`);
  const all = await pollUntil({
    what: 'the reopened history',
    read: () => texts(conversationId),
    done: (t) => t.includes('A reopens'),
    intervalMs: 100,
  });
  expect(all.filter((t) => t.startsWith('B'))).toEqual([]);
}, 60_000);

test('a conversation running from before the binding (no owner memo) keeps its workflow ID and keeps working', async () => {
  const conversationId = randomUUID();
  const key = bmConversationKey(conversationId);
  // What the previous build did: signalWithStart without an owner.
  await h.conversations.deliver(key, [
    {
      channel: 'bm',
      conversationKey: key,
      dedupeKey: `legacy-${randomUUID()}`,
      receivedAt: new Date().toISOString(),
      type: 'message',
      messageId: 'legacy',
      content: { kind: 'text', text: 'legacy' },
    },
  ]);
  expect(h.conversations.workflowId(key)).toBe(`conv-bm-${conversationId}`);
  expect((await post(TOKEN_A, message(AGENT_A, conversationId, 'after upgrade'))).status).toBe('accepted');
  await h.stateWhen(key, (s) => s.events.length === 2);
});

test('an operator message cannot open a Business Messages conversation (it would be bound to no agent): 404, nothing started; the first signed delivery binds it', async () => {
  const conversationId = randomUUID();
  const key = bmConversationKey(conversationId);
  const send = () =>
    h.post(`/v1/conversations/${encodeURIComponent(key)}/messages`, JSON.stringify({ text: 'hello from the desk' }), {
      authorization: `Bearer ${API_TOKEN}`,
      'content-type': 'application/json',
    });
  const refused = await send();
  expect(refused.status).toBe(404);
  expect(await refused.json()).toMatchObject({ error: { code: 'conversation_not_found' } });
  expect(await h.workflowExists(key)).toBe(false);

  expect((await post(TOKEN_A, message(AGENT_A, conversationId, 'the user writes first'))).status).toBe('accepted');
  await h.stateWhen(key, (s) => s.events.length === 1);
  const description = await h.client.workflow.getHandle(h.conversations.workflowId(key)).describe();
  expect((await description.memo)?.[OWNER_MEMO]).toBe(`agent:${AGENT_A}`);
  expect((await send()).status).toBe(201);
  expect(await post(TOKEN_B, message(AGENT_B, conversationId, 'not yours'))).toMatchObject({ status: 'stored' });
});
