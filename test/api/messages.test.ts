/**
 * POST/GET /v1/conversations/{key}/messages through the real Hono app (bearer auth included)
 * against the time-skipping server: update-with-start, Idempotency-Key, 400s naming the field.
 */
import { randomUUID } from 'node:crypto';

import { ApplicationFailure } from '@temporalio/common';

import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { FailureType } from '../../src/domain/errors';
import { silentLogger } from '../../src/logger';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { recordingActivities } from '../helpers/recording-activities';
import { timeSkippingServer } from '../helpers/time-skipping';

const TOKEN = 'messages-test-api-token';

describe('operator API: outbound messages', () => {
  const server = timeSkippingServer('file');

  /** A fresh RBM number per test, so each test gets its own conversation workflow. */
  function rbmKey(): string {
    const digits = String(Math.floor(Math.random() * 1e7)).padStart(7, '0');
    return `rbm:agent@rbm.goog:+1415${digits}`;
  }

  async function withApi(
    rec: ReturnType<typeof recordingActivities>,
    body: (
      request: (
        method: string,
        path: string,
        init?: { json?: unknown; headers?: Record<string, string> },
      ) => Promise<Response>,
    ) => Promise<void>,
  ) {
    const { worker, taskQueue } = await server.worker({ taskQueuePrefix: 'messages-api', activities: rec.activities });
    const config = loadConfig({ API_TOKEN: TOKEN, TEMPORAL_TASK_QUEUE: taskQueue });
    const conversations = new ConversationsClient({
      client: server.env.client,
      taskQueue,
      timeoutMs: 10_000,
      workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
      startInput: { settings: { idleTimeout: '60 days' } },
    });
    const app = createApp({ config, conversations, logger: silentLogger });
    await worker.runUntil(() =>
      body((method, path, init = {}) =>
        Promise.resolve(
          app.request(path, {
            method,
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
            body: init.json === undefined ? undefined : JSON.stringify(init.json),
          }),
        ),
      ),
    );
  }

  const messagesPath = (key: string) => `/v1/conversations/${encodeURIComponent(key)}/messages`;

  test('a retried POST with the same Idempotency-Key is the same message: one send, same messageId', async () => {
    const rec = recordingActivities();
    const key = rbmKey();
    await withApi(rec, async (request) => {
      const body = {
        text: 'Your table is ready',
        suggestions: [{ kind: 'reply', text: 'On my way', postbackData: 'omw' }],
        delivery: { deliverWithin: '10m', fallbackSms: { text: 'Table ready' } },
      };
      const headers = { 'idempotency-key': 'table-ready-7' };
      // The first request starts the conversation's workflow (update-with-start); two more race and retry.
      const first = await request('POST', messagesPath(key), { json: body, headers });
      expect(first.status).toBe(201);
      const created = (await first.json()) as { messageId: string; status: string };
      expect(created.status).toBe('SENT');
      expect(first.headers.get('location')).toBe(`${messagesPath(key)}/${created.messageId}`);
      const retries = await Promise.all([
        request('POST', messagesPath(key), { json: body, headers }),
        request('POST', messagesPath(key), { json: body, headers }),
      ]);
      for (const res of retries) {
        expect([200, 201]).toContain(res.status);
        expect(((await res.json()) as { messageId: string }).messageId).toBe(created.messageId);
      }
      expect(rec.callsTo('sendMessage')).toEqual([
        expect.objectContaining({ messageId: created.messageId, conversationKey: key }),
      ]);

      // A different key is a different message.
      const other = await request('POST', messagesPath(key), {
        json: { text: 'Second' },
        headers: { 'idempotency-key': 'other-1' },
      });
      expect(other.status).toBe(201);
      expect(rec.callsTo('sendMessage')).toHaveLength(2);

      const list = await request('GET', messagesPath(key));
      expect(list.status).toBe(200);
      const view = (await list.json()) as {
        messages: { messageId: string; status: string; idempotencyKey?: string; deadlines: { deliverBy?: string } }[];
        metrics: { sent: number; accepted: number };
      };
      expect(view.messages.map((m) => m.idempotencyKey)).toEqual(['table-ready-7', 'other-1']);
      expect(view.messages[0]!.deadlines.deliverBy).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(view.metrics).toMatchObject({ accepted: 2, sent: 2 });

      const one = await request('GET', `${messagesPath(key)}/${created.messageId}`);
      expect(((await one.json()) as { status: string }).status).toBe('SENT');
    });
  });

  test('a user that is not RCS-reachable gets the SMS at once; the POST answers FALLBACK_SENT', async () => {
    const rec = recordingActivities({
      channels: {
        sendMessage: async () => {
          throw ApplicationFailure.nonRetryable('404 from RBM', FailureType.NotRcsReachable);
        },
      },
    });
    const key = rbmKey();
    await withApi(rec, async (request) => {
      const res = await request('POST', messagesPath(key), {
        json: { text: 'Code 4711', delivery: { fallbackSms: { text: 'Code 4711' } } },
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({
        status: 'FALLBACK_SENT',
        message: { send: { state: 'failed', failureType: 'NotRcsReachable' }, sms: { state: 'sent' } },
      });
    });
    expect(rec.callsTo('sendSms')).toEqual([expect.objectContaining({ to: key.split(':')[2], body: 'Code 4711' })]);
  });

  test('400 naming the field: ttl over 15 days, unknown field, BM ttl, BM SMS without number, bad Idempotency-Key, bad key', async () => {
    const rec = recordingActivities();
    const key = rbmKey();
    await withApi(rec, async (request) => {
      const cases: [string, unknown, string, Record<string, string>?][] = [
        [key, { text: 'x', delivery: { ttl: '1296001s' } }, 'delivery.ttl'],
        [key, { text: 'x', delivery: { ttl: '86400' } }, 'delivery.ttl'],
        [key, { text: 'x', delivery: { deliveryWithin: '10m' } }, 'delivery'],
        [key, { text: 'x', delivery: { deliverWithin: 'soon' } }, 'delivery.deliverWithin'],
        [key, { text: 'x', delivery: { timeSensitive: true } }, 'delivery.fallbackSms'],
        [key, { text: 'x', delivery: { fallbackSms: { text: 's', to: '0044123' } } }, 'delivery.fallbackSms.to'],
        [key, { suggestions: [] }, 'text'],
        ['bm:conv-9', { text: 'x', delivery: { ttl: '60s' } }, 'delivery.ttl'],
        ['bm:conv-9', { text: 'x', delivery: { fallbackSms: { text: 's' } } }, 'delivery.fallbackSms.to'],
        [key, { text: 'x' }, 'Idempotency-Key', { 'idempotency-key': 'has space' }],
        ['whatsapp:123', { text: 'x' }, 'key'],
      ];
      for (const [k, json, field, headers] of cases) {
        const res = await request('POST', messagesPath(k), { json, headers });
        const body = (await res.json()) as { error: { field?: string; message: string } };
        expect({ field, status: res.status, got: body.error.field }).toEqual({ field, status: 400, got: field });
      }
    });
    expect(rec.callsTo('sendMessage')).toEqual([]);
  });

  test('GET for a conversation that never existed is 404', async () => {
    const rec = recordingActivities();
    await withApi(rec, async (request) => {
      expect((await request('GET', messagesPath(rbmKey()))).status).toBe(404);
    });
  });
});
