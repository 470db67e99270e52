/** Handoff notifications: a signed JSON POST to the desk, over real HTTP to a tiny receiver. */
import { startSimulator } from '../../dev/simulator/server';
import {
  createHandoffNotifier,
  HANDOFF_SIGNATURE_HEADER,
  handoffIdempotencyKey,
  signHandoffBody,
  verifyHandoffSignature,
} from '../../src/channels/handoff';
import { rbmConversationKey } from '../../src/domain/conversation-key';
import { FailureType, RetryableFailureType } from '../../src/domain/errors';
import { silentLogger } from '../../src/logger';
import { failureOf, startReceiver } from '../helpers/simulator';

const SECRET = 'handoff-test-secret';
const ARGS = {
  conversationKey: rbmConversationKey('a@rbm.goog', '+14155550100'),
  handoffId: 'handoff-1',
  queue: 'billing',
  reason: 'user asked for a human',
  locale: 'fr',
  summary: ['user: bonjour'],
};

describe('handoff notifier', () => {
  test('posts JSON signed with HMAC-SHA256 of the body, with an Idempotency-Key of its conversation and handoff id', async () => {
    const receiver = await startReceiver();
    try {
      await createHandoffNotifier({
        url: `${receiver.url}/desk`,
        secret: SECRET,
        timeoutMs: 2000,
        logger: silentLogger,
      }).notify(ARGS);
      const req = await receiver.next();
      expect(req.path).toBe('/desk');
      expect(req.headers['idempotency-key']).toBe(handoffIdempotencyKey(ARGS.conversationKey, 'handoff-1'));
      expect(req.headers['idempotency-key']).toMatch(/^handoff-[0-9a-f]{32}$/);
      const signature = req.headers[HANDOFF_SIGNATURE_HEADER.toLowerCase()];
      expect(verifyHandoffSignature(SECRET, req.raw, signature)).toBe(true);
      expect(signature).toBe(signHandoffBody(SECRET, req.raw));
      expect(verifyHandoffSignature('another-secret', req.raw, signature)).toBe(false);
      expect(verifyHandoffSignature(SECRET, Buffer.concat([req.raw, Buffer.from(' ')]), signature)).toBe(false);
      expect(JSON.parse(req.raw.toString())).toMatchObject({
        handoffId: 'handoff-1',
        conversationKey: ARGS.conversationKey,
        queue: 'billing',
        reason: ARGS.reason,
        locale: 'fr',
        summary: ['user: bonjour'],
      });
    } finally {
      await receiver.close();
    }
  });

  test('5xx is retryable, 4xx permanent, 409 (already known) is success', async () => {
    const statuses = [503, 400, 409];
    const receiver = await startReceiver((_req, i) => statuses[i] ?? 200);
    try {
      const notifier = createHandoffNotifier({
        url: receiver.url,
        secret: SECRET,
        timeoutMs: 2000,
        logger: silentLogger,
      });
      expect((await failureOf(() => notifier.notify(ARGS))).type).toBe(RetryableFailureType.Unavailable);
      const permanent = await failureOf(() => notifier.notify(ARGS));
      expect(permanent.type).toBe(FailureType.InvalidRequest);
      expect(permanent.nonRetryable).toBe(true);
      await expect(notifier.notify(ARGS)).resolves.toBeUndefined();
    } finally {
      await receiver.close();
    }
  });

  test("two conversations' first handoffs (the same handoff id) both reach the stand-in desk; a retry of one is a repeat", async () => {
    const running = await startSimulator({ handoffSecret: SECRET });
    try {
      const notifier = createHandoffNotifier({
        url: `${running.url}/desk/handoffs`,
        secret: SECRET,
        timeoutMs: 2000,
        logger: silentLogger,
      });
      const other = { ...ARGS, conversationKey: rbmConversationKey('a@rbm.goog', '+14155550101') };
      await notifier.notify(ARGS);
      await notifier.notify(other);
      await notifier.notify(other);
      expect(running.sim.calls({ api: 'desk' }).map((c) => [c.status, c.conversation])).toEqual([
        [200, ARGS.conversationKey],
        [200, other.conversationKey],
        [409, other.conversationKey],
      ]);
    } finally {
      await running.close();
    }
  });

  test("the simulator's stand-in desk checks the signature and recognises a repeated handoff", async () => {
    const running = await startSimulator({ handoffSecret: SECRET });
    try {
      const url = `${running.url}/desk/handoffs`;
      const notifier = createHandoffNotifier({ url, secret: SECRET, timeoutMs: 2000, logger: silentLogger });
      await notifier.notify(ARGS);
      await notifier.notify(ARGS);
      const forged = await failureOf(() =>
        createHandoffNotifier({ url, secret: 'not-the-secret', timeoutMs: 2000, logger: silentLogger }).notify({
          ...ARGS,
          handoffId: 'handoff-2',
        }),
      );
      expect(forged.type).toBe(FailureType.PermissionDenied);
      expect(running.sim.calls({ api: 'desk' }).map((c) => [c.status, c.duplicate ?? false, c.conversation])).toEqual([
        [200, false, ARGS.conversationKey],
        [409, true, ARGS.conversationKey],
        [401, false, ARGS.conversationKey],
      ]);
      expect(running.sim.calls({ phone: '+14155550100' })).toHaveLength(3);
    } finally {
      await running.close();
    }
  });

  test('without HANDOFF_URL (or without HANDOFF_SECRET) it fails NotConfigured', async () => {
    const none = await failureOf(() => createHandoffNotifier({ timeoutMs: 1000, logger: silentLogger }).notify(ARGS));
    expect(none.type).toBe(FailureType.NotConfigured);
    expect(none.nonRetryable).toBe(true);
    const unsigned = await failureOf(() =>
      createHandoffNotifier({ url: 'http://127.0.0.1:9/desk', timeoutMs: 1000, logger: silentLogger }).notify(ARGS),
    );
    expect(unsigned.type).toBe(FailureType.NotConfigured);
  });
});
