/**
 * Webhooks the simulator posts: Google's envelopes, X-Goog-Signature that Switchboard's own check
 * (src/channels/signature.ts) accepts, tampering detected, retries on non-200, user actions.
 */
import { verifySignature } from '../../src/channels/signature';
import { bmBody, rbmData, startReceiver, startTestPlatform, type TestPlatform } from '../helpers/simulator';

const RBM_TOKEN = 'rbm-webhook-token';
const BM_TOKEN = 'bm-webhook-token';
const PHONE = '+33612345678';

describe('simulator webhooks', () => {
  let platform: TestPlatform;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let answers: number[];

  beforeEach(async () => {
    answers = [];
    receiver = await startReceiver((_req, i) => answers[i] ?? 200);
    platform = await startTestPlatform({
      webhookBaseUrl: receiver.url,
      rbmClientToken: RBM_TOKEN,
      bmClientToken: BM_TOKEN,
      rbmAgentId: 'sim@rbm.goog',
    });
  });
  afterEach(async () => {
    await platform.stop();
    await receiver.close();
  });

  const act = async (path: string, body: unknown) => {
    const res = await fetch(`${platform.url}/sim/users/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      messageId?: string;
      eventId?: string;
      conversation: string;
      webhook: { status: number | null; delivered: boolean };
    };
  };

  test('RBM: Pub/Sub envelope, signature over the decoded data passes verifySignature; tampering fails', async () => {
    const sent = await act(`rbm/${encodeURIComponent(PHONE)}/text`, { text: 'Bonjour' });
    expect(sent.webhook).toMatchObject({ status: 200, delivered: true });
    const req = await receiver.next((r) => r.path === '/webhooks/rbm');

    const envelope = JSON.parse(req.raw.toString()) as {
      message: { data: string; messageId: string; publishTime: string };
      subscription: string;
    };
    expect(envelope.message.messageId).toMatch(/^\d+$/);
    expect(envelope.subscription).toMatch(/^projects\/.+\/subscriptions\/.+/);
    const data = Buffer.from(envelope.message.data, 'base64');
    expect(rbmData(req)).toEqual({
      senderPhoneNumber: PHONE,
      messageId: sent.messageId,
      sendTime: expect.any(String),
      agentId: 'sim@rbm.goog',
      text: 'Bonjour',
    });

    const signature = req.headers['x-goog-signature'];
    expect(verifySignature(RBM_TOKEN, data, signature)).toBe(true);
    // The signature covers the decoded data, not the raw envelope.
    expect(verifySignature(RBM_TOKEN, req.raw, signature)).toBe(false);
    const tampered = Buffer.from(data.toString().replace('Bonjour', 'Bonsoir'));
    expect(verifySignature(RBM_TOKEN, tampered, signature)).toBe(false);
    expect(verifySignature('another-token', data, signature)).toBe(false);
  });

  test('BM: plain JSON body, signature over the raw bytes passes verifySignature; tampering fails', async () => {
    const sent = await act('bm/conv-42/text', {
      text: 'Hola',
      context: { locale: 'es-MX', displayName: 'Lu', placeId: 'ChIJ-place' },
    });
    const req = await receiver.next((r) => r.path === '/webhooks/bm');
    expect(bmBody(req)).toMatchObject({
      conversationId: 'conv-42',
      agent: expect.stringMatching(/^brands\/.+\/agents\/.+/),
      requestId: expect.any(String),
      message: { messageId: sent.messageId, name: `conversations/conv-42/messages/${sent.messageId}`, text: 'Hola' },
      context: {
        userInfo: { displayName: 'Lu', userDeviceLocale: 'es-MX' },
        resolvedLocale: 'es',
        placeId: 'ChIJ-place',
      },
    });
    const signature = req.headers['x-goog-signature'];
    expect(verifySignature(BM_TOKEN, req.raw, signature)).toBe(true);
    const tampered = Buffer.from(req.raw.toString().replace('Hola', 'Hole'));
    expect(verifySignature(BM_TOKEN, tampered, signature)).toBe(false);
  });

  test('a webhook answered 500 is retried with backoff until 200, and every attempt is recorded', async () => {
    answers = [500, 503];
    const sent = await act(`rbm/${encodeURIComponent(PHONE)}/text`, { text: 'again' });
    expect(sent.webhook).toMatchObject({ status: 500, delivered: false });
    const third = await platform.sim.waitForCall((c) => c.direction === 'webhook' && c.status === 200);
    expect(third.attempt).toBe(3);
    const attempts = platform.sim.calls({ direction: 'webhook' });
    expect(attempts.map((c) => [c.attempt, c.status])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    // The same delivery each time: identical bytes and signature.
    const bodies = receiver.received.map((r) => JSON.parse(r.raw.toString()).message.data as string);
    expect(new Set(bodies).size).toBe(1);
  });

  test('only 200 acknowledges: 202, 204 and 201 are retried like failures, each wait at least double the one before', async () => {
    answers = [202, 204, 201];
    const sent = await act(`rbm/${encodeURIComponent(PHONE)}/text`, { text: 'accepted is not enough' });
    expect(sent.webhook).toMatchObject({ status: 202, delivered: false });
    await platform.sim.waitForCall((c) => c.direction === 'webhook' && c.status === 200);
    const attempts = platform.sim.calls({ direction: 'webhook' });
    expect(attempts.map((c) => [c.attempt, c.status])).toEqual([
      [1, 202],
      [2, 204],
      [3, 201],
      [4, 200],
    ]);
    // Back-off (the test platform's base delay is 20 ms, doubling): a lower bound, which load cannot break.
    const starts = attempts.map((c) => Date.parse(c.time));
    for (let i = 1; i < starts.length; i++)
      expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeGreaterThanOrEqual(20 * 2 ** (i - 1) - 1);
  });

  test('raw webhooks: any data or body, signed over exactly those bytes, retried like the others', async () => {
    answers = [500];
    const launch = {
      eventId: 'launch-1',
      agentId: 'sim@rbm.goog',
      regionId: '/v1/regions/fi-rcs',
      oldLaunchState: 'LAUNCH_STATE_PENDING',
      newLaunchState: 'LAUNCH_STATE_LAUNCHED',
    };
    const raw = async (channel: 'rbm' | 'bm', body: unknown) => {
      const res = await fetch(`${platform.url}/sim/webhooks/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        json: (await res.json()) as { webhook?: { status: number; delivered: boolean }; error?: string },
      };
    };
    expect((await raw('rbm', { data: launch })).json.webhook).toMatchObject({ status: 500, delivered: false });
    const retried = await receiver.next((r) => r.path === '/webhooks/rbm' && receiver.received.indexOf(r) === 1);
    expect(rbmData(retried)).toEqual(launch);
    expect(verifySignature(RBM_TOKEN, Buffer.from(JSON.stringify(launch)), retried.headers['x-goog-signature'])).toBe(
      true,
    );

    expect((await raw('rbm', { dataText: 'not json {' })).json.webhook).toMatchObject({ status: 200, delivered: true });
    const notJson = receiver.received[2];
    const data = Buffer.from(
      (JSON.parse(notJson?.raw.toString() ?? '{}') as { message: { data: string } }).message.data,
      'base64',
    );
    expect(data.toString()).toBe('not json {');
    expect(verifySignature(RBM_TOKEN, data, notJson?.headers['x-goog-signature'])).toBe(true);

    const bodyText = '{"conversationId":"c-raw","somethingNew":{"a":1}}';
    expect((await raw('bm', { bodyText })).json.webhook).toMatchObject({ status: 200, delivered: true });
    const bm = await receiver.next((r) => r.path === '/webhooks/bm');
    expect(bm.raw.toString()).toBe(bodyText);
    expect(verifySignature(BM_TOKEN, bm.raw, bm.headers['x-goog-signature'])).toBe(true);

    expect((await raw('rbm', { data: {}, dataText: 'x' })).status).toBe(400);
    expect((await raw('bm', {})).status).toBe(400);
  });

  test('after the last attempt the webhook is dropped (bounded retries)', async () => {
    answers = [500, 500, 500, 500, 500];
    await act(`rbm/${encodeURIComponent(PHONE)}/text`, { text: 'lost' });
    await platform.sim.waitForCall((c) => c.direction === 'webhook' && c.attempt === 4);
    // Everything queued behind it still goes out afterwards, in order.
    answers[4] = 200;
    await act(`rbm/${encodeURIComponent(PHONE)}/text`, { text: 'next' });
    expect(platform.sim.calls({ direction: 'webhook' }).map((c) => c.status)).toEqual([500, 500, 500, 500, 200]);
  });

  test('RBM user actions: image, file, location, suggestion reply and action, typing, unsubscribe', async () => {
    const phone = encodeURIComponent(PHONE);
    await act(`rbm/${phone}/image`, { url: 'https://example.com/cat.jpg' });
    await act(`rbm/${phone}/file`, {
      url: 'https://example.com/invoice.pdf',
      mimeType: 'application/pdf',
      sizeBytes: 2048,
    });
    await act(`rbm/${phone}/location`, { latitude: 48.8584, longitude: 2.2945 });
    await act(`rbm/${phone}/reply`, { postbackData: 'yes', text: 'Yes' });
    await act(`rbm/${phone}/action`, { postbackData: 'open-site' });
    const typing = await act(`rbm/${phone}/typing`, {});
    await act(`rbm/${phone}/unsubscribe`, {});

    const data = receiver.received.map(rbmData);
    expect(data[0]).toMatchObject({
      userFile: { payload: { mimeType: 'image/jpeg', fileName: 'cat.jpg', fileUri: 'https://example.com/cat.jpg' } },
    });
    expect(data[1]).toMatchObject({
      userFile: { payload: { mimeType: 'application/pdf', fileSizeBytes: 2048, fileName: 'invoice.pdf' } },
    });
    expect(data[2]).toMatchObject({ location: { latitude: 48.8584, longitude: 2.2945 } });
    expect(data[3]).toMatchObject({ suggestionResponse: { postbackData: 'yes', text: 'Yes', type: 'REPLY' } });
    expect(data[4]).toMatchObject({ suggestionResponse: { postbackData: 'open-site', type: 'ACTION' } });
    expect(data[5]).toEqual({
      senderPhoneNumber: PHONE,
      eventType: 'IS_TYPING',
      eventId: typing.eventId,
      sendTime: expect.any(String),
      agentId: 'sim@rbm.goog',
    });
    expect(data[6]).toMatchObject({ eventType: 'UNSUBSCRIBE' });
    for (const req of receiver.received)
      expect(
        verifySignature(
          RBM_TOKEN,
          Buffer.from(JSON.parse(req.raw.toString()).message.data, 'base64'),
          req.headers['x-goog-signature'],
        ),
      ).toBe(true);
  });

  test('BM user actions: image as a signed-URL text, suggestion, typing, live agent, sign-in result; RBM-only actions refused', async () => {
    await act('bm/conv-9/image', { url: 'https://storage.example.com/signed/abc.jpg?sig=1' });
    await act('bm/conv-9/reply', { postbackData: 'hours', text: 'Opening hours' });
    await act('bm/conv-9/typing', { isTyping: false });
    await act('bm/conv-9/live-agent', {});
    await act('bm/conv-9/auth', { code: '4/sim-code' });
    await act('bm/conv-9/auth', { error: 'ACCESS_DENIED', errorDescription: 'the user said no' });
    const bodies = receiver.received.map(bmBody);
    expect(bodies[0]).toMatchObject({ message: { text: 'https://storage.example.com/signed/abc.jpg?sig=1' } });
    expect(bodies[1]).toMatchObject({
      suggestionResponse: { postbackData: 'hours', text: 'Opening hours', type: 'REPLY' },
    });
    expect(bodies[2]).toMatchObject({ userStatus: { isTyping: false } });
    expect(bodies[3]).toMatchObject({ userStatus: { requestedLiveAgent: true } });
    expect(bodies[4]).toMatchObject({
      authenticationResponse: { code: '4/sim-code', redirectUri: expect.any(String) },
    });
    expect(bodies[5]).toMatchObject({
      authenticationResponse: { errorDetails: { error: 'ACCESS_DENIED', errorDescription: 'the user said no' } },
    });
    expect(bodies[5]?.authenticationResponse).not.toHaveProperty('code');
    expect((await fetch(`${platform.url}/sim/users/bm/conv-9/auth`, { method: 'POST', body: '{}' })).status).toBe(400);

    const refused = await fetch(`${platform.url}/sim/users/bm/conv-9/location`, {
      method: 'POST',
      body: JSON.stringify({ latitude: 1, longitude: 2 }),
    });
    expect(refused.status).toBe(400);
    const invalid = await fetch(`${platform.url}/sim/users/rbm/${encodeURIComponent(PHONE)}/text`, {
      method: 'POST',
      body: JSON.stringify({}),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ error: expect.stringContaining('text') });
  });
});
