/**
 * Channel readers without Temporal: every seed fixture keeps its guide's shape and becomes the
 * right events; the other payload kinds of the issue, unknown kinds, schema violations (with the
 * field named) and dedupe-key fallbacks.
 */
import { openBmDelivery } from '../../src/channels/bm/inbound';
import { type InboundInterpretation } from '../../src/channels/inbound-payload';
import { openRbmDelivery } from '../../src/channels/rbm/inbound';
import { type Channel } from '../../src/domain/conversation-key';
import { type InboundEvent, withoutCredentials } from '../../src/domain/inbound';
import { EXPECTED, FIXTURE_AGENT, FIXTURE_CONVERSATION_ID, FIXTURE_PHONE, loadSeedFixtures } from './fixtures';

const RECEIVED_AT = '2024-05-14T12:00:00.000Z';

function interpret(
  channel: Channel,
  payload: unknown,
  envelope: Record<string, unknown> = { messageId: 'ps-9001' },
): InboundInterpretation {
  if (channel === 'bm') {
    const raw = Buffer.from(JSON.stringify(payload));
    const opened = openBmDelivery(JSON.parse(raw.toString()), raw);
    if (!opened.ok) throw new Error('BM bodies always open');
    return opened.payload.interpret(RECEIVED_AT);
  }
  const body = {
    message: { data: Buffer.from(JSON.stringify(payload)).toString('base64'), ...envelope },
    subscription: 'projects/p/subscriptions/s',
  };
  const opened = openRbmDelivery(body);
  if (!opened.ok) throw new Error(`envelope rejected: ${JSON.stringify(opened.problems)}`);
  return opened.payload.interpret(RECEIVED_AT);
}

function events(result: InboundInterpretation) {
  if (result.outcome !== 'events') throw new Error(`expected events, got ${JSON.stringify(result)}`);
  return result.events;
}

/** Every key path of a JSON value, arrays as `[]`. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${prefix}[]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return [p, ...keyPaths(v, p)];
    });
  }
  return [];
}

const fixtures = loadSeedFixtures();

describe('seed fixtures', () => {
  test('cover every seed and every example the issue names', () => {
    expect(new Set(fixtures.flatMap((f) => f.seed.split(', ')))).toEqual(
      new Set([
        '000_028d2263a0d650c0.txt',
        '001_c416776758e3a89a.txt',
        '002_da3853e82121dd53.txt',
        '003_72fb46d5a90d495e.txt',
        '004_fb5a5ae9e4ff2839.txt',
      ]),
    );
    expect(fixtures.map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test.each(fixtures.map((f) => [f.name, f] as const))(
    '%s keeps the documented shape and field set',
    (_name, fixture) => {
      const documented = new Set(keyPaths(fixture.documented));
      const actual = new Set(keyPaths(fixture.payload));
      if (fixture.fragment) expect([...documented].filter((p) => !actual.has(p))).toEqual([]);
      else expect(actual).toEqual(documented);
    },
  );

  test.each(fixtures.map((f) => [f.name, f] as const))('%s becomes the right events', (name, fixture) => {
    const key = fixture.channel === 'bm' ? `bm:${FIXTURE_CONVERSATION_ID}` : `rbm:${FIXTURE_AGENT}:${FIXTURE_PHONE}`;
    const expected = EXPECTED[name]?.(key) ?? [];
    const actual = events(interpret(fixture.channel, fixture.payload));
    expect(actual).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(actual[i]).toMatchObject({ ...e, receivedAt: RECEIVED_AT }));
  });
});

describe('RBM payload kinds', () => {
  const base = { senderPhoneNumber: '+14155550100', agentId: 'a@rbm.goog', sendTime: '2024-05-14T10:00:00Z' };

  test('a text message with messageId (reference form) dedupes on it', () => {
    const [e] = events(interpret('rbm', { ...base, messageId: 'MsG-1', text: 'hello' }));
    expect(e).toMatchObject({
      type: 'message',
      messageId: 'MsG-1',
      dedupeKey: 'MsG-1',
      content: { kind: 'text', text: 'hello' },
      occurredAt: '2024-05-14T10:00:00Z',
      conversationKey: 'rbm:a@rbm.goog:+14155550100',
    });
  });

  test("a user message carries the country of the sender's number, resolved here so workflows need no phone metadata", () => {
    expect(events(interpret('rbm', { ...base, messageId: 'm-us', text: 'hello' }))[0]).toMatchObject({
      senderCountry: { callingCode: '+1', country: 'US' },
    });
    expect(
      events(interpret('rbm', { ...base, senderPhoneNumber: '+447700900123', messageId: 'm-gb', text: 'hello' }))[0],
    ).toMatchObject({ senderCountry: { callingCode: '+44', possibleCountries: ['GB', 'GG', 'IM', 'JE'] } });
    // Receipts and typing are not routed: no lookup for them.
    expect(events(interpret('rbm', { ...base, eventType: 'IS_TYPING', eventId: 'ev-t' }))[0]).not.toHaveProperty(
      'senderCountry',
    );
  });

  test('userFile with payload and thumbnail', () => {
    const file = {
      mimeType: 'image/jpeg',
      fileSizeBytes: '2048',
      fileName: 'cat.jpg',
      fileUri: 'https://rcs.example/f/1',
    };
    const thumb = { mimeType: 'image/jpeg', fileSizeBytes: 512, fileUri: 'https://rcs.example/f/1-thumb' };
    const [e] = events(interpret('rbm', { ...base, messageId: 'm2', userFile: { payload: file, thumbnail: thumb } }));
    expect(e).toMatchObject({
      content: { kind: 'file', file: { ...file, fileSizeBytes: 2048 }, thumbnail: { ...thumb } },
    });
  });

  test('location', () => {
    const [e] = events(
      interpret('rbm', { ...base, messageId: 'm3', location: { latitude: 48.8566, longitude: 2.3522 } }),
    );
    expect(e).toMatchObject({ content: { kind: 'location', latitude: 48.8566, longitude: 2.3522 } });
  });

  test.each([
    ['REPLY', { postbackData: 'p', text: 'Yes', type: 'REPLY' }, 'REPLY'],
    ['ACTION with text', { postbackData: 'p', text: 'Call us', type: 'ACTION' }, 'ACTION'],
    ['UNKNOWN', { postbackData: 'p', type: 'UNKNOWN' }, 'UNKNOWN'],
  ])('suggestionResponse %s', (_name, suggestionResponse, type) => {
    const [e] = events(interpret('rbm', { ...base, messageId: 'm4', suggestionResponse }));
    expect(e).toMatchObject({ content: { kind: 'suggestion', postbackData: 'p', suggestionType: type } });
  });

  test.each([
    ['SUBSCRIBE', { type: 'subscription', subscribed: true }],
    ['UNSUBSCRIBE', { type: 'subscription', subscribed: false }],
    ['IS_TYPING', { type: 'typing', isTyping: true }],
  ])('user event %s', (eventType, expected) => {
    const [e] = events(interpret('rbm', { ...base, eventType, eventId: `ev-${eventType}` }));
    expect(e).toMatchObject({ ...expected, dedupeKey: `ev-${eventType}` });
  });

  test('without messageId or eventId the dedupe key is a hash of the signed data, whatever the unsigned envelope says', () => {
    const payload = { ...base, text: 'no ids' };
    const a = events(interpret('rbm', payload, { message_id: 'ps-42' }))[0]?.dedupeKey;
    const b = events(interpret('rbm', payload, { messageId: 'ps-43', attributes: { type: 'agent_launch_event' } }))[0]
      ?.dedupeKey;
    const c = events(interpret('rbm', payload, {}))[0]?.dedupeKey;
    expect(a).toMatch(/^rbm-data-[0-9a-f]{32}$/);
    expect([b, c]).toEqual([a, a]);
  });

  test('the unsigned envelope does not classify: attributes.type agent_launch_event on a user message is still a user message', () => {
    const [e] = events(
      interpret(
        'rbm',
        { ...base, messageId: 'm-attr', text: 'hi' },
        { attributes: { type: 'agent_launch_event', product: 'RBM' } },
      ),
    );
    expect(e).toMatchObject({ type: 'message', messageId: 'm-attr' });
  });

  test('an agent launch event (by its signed data) is a known kind: a notice with its states, no conversation events', () => {
    const result = interpret('rbm', {
      eventId: 'e',
      agentId: 'a@rbm.goog',
      regionId: '/v1/regions/fi-rcs',
      oldLaunchState: 'LAUNCH_STATE_PENDING',
      newLaunchState: 'LAUNCH_STATE_LAUNCHED',
      actingParty: 'CARRIER',
      sendTime: '2026-07-01T00:00:00Z',
    });
    expect(result).toEqual({
      outcome: 'notice',
      kind: 'rbm.agent_launch_event',
      fields: {
        agentId: 'a@rbm.goog',
        eventId: 'e',
        regionId: '/v1/regions/fi-rcs',
        oldLaunchState: 'LAUNCH_STATE_PENDING',
        newLaunchState: 'LAUNCH_STATE_LAUNCHED',
        actingParty: 'CARRIER',
        sendTime: '2026-07-01T00:00:00Z',
      },
    });
  });

  test('unknown extra fields are kept, not rejected', () => {
    const [e] = events(
      interpret('rbm', {
        ...base,
        messageId: 'm5',
        text: 'x',
        carrier: 'Example Wireless',
        richMessageClassification: { useCase: 'PROMOTIONAL' },
        brandNewField: { a: 1 },
      }),
    );
    expect(e).toMatchObject({ type: 'message', messageId: 'm5' });
  });

  test.each([
    [
      'an event only the unsigned envelope calls an agent launch event',
      { eventId: 'e', agentId: 'a@rbm.goog' },
      { attributes: { type: 'agent_launch_event', product: 'RBM' } },
      'rbm.unknown',
    ],
    ['a new user event type', { ...base, eventType: 'REACTION', eventId: 'e' }, {}, 'rbm.user_event.REACTION'],
    [
      'a new server event type',
      { phoneNumber: '+14155550100', agentId: 'a@rbm.goog', eventType: 'SOMETHING_NEW', messageId: 'm' },
      {},
      'rbm.server_event.SOMETHING_NEW',
    ],
    [
      'a user message with a new content type',
      { ...base, messageId: 'm', richReaction: { emoji: '👍' } },
      {},
      'rbm.user_message.unknown_content',
    ],
    ['anything else', { hello: 'world' }, {}, 'rbm.unknown'],
  ])('%s is unrecognized', (_name, payload, envelope, kind) => {
    expect(interpret('rbm', payload, envelope)).toMatchObject({ outcome: 'unrecognized', kind });
  });

  test.each([
    [
      'latitude not a number',
      { ...base, messageId: 'm', location: { latitude: 'north', longitude: 2 } },
      'message.data.location.latitude',
    ],
    [
      'phone not E.164',
      { ...base, senderPhoneNumber: '0612345678', messageId: 'm', text: 'x' },
      'message.data.senderPhoneNumber',
    ],
    ['missing agentId', { senderPhoneNumber: '+14155550100', messageId: 'm', text: 'x' }, 'message.data.agentId'],
    [
      'file without uri',
      { ...base, messageId: 'm', userFile: { payload: { mimeType: 'image/png' } } },
      'message.data.userFile.payload.fileUri',
    ],
    [
      'two content fields',
      { ...base, messageId: 'm', text: 'x', location: { latitude: 1, longitude: 2 } },
      'message.data',
    ],
    ['DELIVERED without messageId', { ...base, eventType: 'DELIVERED', eventId: 'e' }, 'message.data.messageId'],
    ['eventType not a string', { ...base, eventType: 7, eventId: 'e' }, 'message.data.eventType'],
    [
      'server event without messageId',
      { phoneNumber: '+14155550100', agentId: 'a@rbm.goog', eventType: 'TTL_EXPIRATION_REVOKED', eventId: 'e' },
      'message.data.messageId',
    ],
  ])('%s is invalid and names the field', (_name, payload, field) => {
    const result = interpret('rbm', payload);
    expect(result.outcome).toBe('invalid');
    if (result.outcome === 'invalid') expect(result.problems.map((p) => p.field)).toContain(field);
  });

  test('an envelope without data, or data that is not base64 JSON, is named', () => {
    const noData = openRbmDelivery({ message: { messageId: 'x' } });
    expect(noData).toMatchObject({ ok: false, problems: [{ field: 'message.data' }] });
    const notJson = openRbmDelivery({ message: { data: Buffer.from('not json').toString('base64') } });
    if (!notJson.ok) throw new Error('opens');
    expect(notJson.payload.interpret(RECEIVED_AT)).toMatchObject({
      outcome: 'invalid',
      kind: 'rbm.malformed_json',
      problems: [{ field: 'message.data' }],
    });
    expect(openRbmDelivery({ message: { data: 'not base64!' } })).toMatchObject({
      ok: false,
      problems: [{ field: 'message.data' }],
    });
  });
});

describe('Business Messages payload kinds', () => {
  const base = {
    conversationId: 'conv-1',
    agent: 'brands/b/agents/a',
    requestId: 'req-1',
    sendTime: '2024-05-14T10:00:00Z',
  };

  test('receipts: several in one payload become one event each, keyed per receipt', () => {
    const receipts = ['m1', 'm2', 'm3'].map((m) => ({
      message: `conversations/conv-1/messages/${m}`,
      receiptType: 'READ',
    }));
    const result = events(interpret('bm', { ...base, receipts: { receipts, createTime: '2024-05-14T10:00:01Z' } }));
    expect(result.map((e) => e.dedupeKey)).toEqual([
      'req-1:conversations/conv-1/messages/m1:READ',
      'req-1:conversations/conv-1/messages/m2:READ',
      'req-1:conversations/conv-1/messages/m3:READ',
    ]);
    expect(result.map((e) => e.type === 'receipt' && e.messageId)).toEqual(['m1', 'm2', 'm3']);
  });

  test.each([
    ['typing started', { isTyping: true }, [{ type: 'typing', isTyping: true, dedupeKey: 'req-1' }]],
    ['typing stopped', { isTyping: false }, [{ type: 'typing', isTyping: false }]],
    ['live agent requested', { requestedLiveAgent: true }, [{ type: 'live_agent_requested', dedupeKey: 'req-1' }]],
  ])('userStatus: %s', (_name, status, expected) => {
    expect(
      events(interpret('bm', { ...base, userStatus: { createTime: '2024-05-14T10:00:02Z', ...status } })),
    ).toMatchObject(expected);
  });

  test('surveyResponse', () => {
    const surveyResponse = {
      survey: 'conversations/conv-1/surveys/srv-9',
      rating: 'VERY_SATISFIED',
      createTime: '2024-05-14T10:05:00Z',
      surveyQuestionId: 'GOOGLE_DEFINED_ASSOCIATE_SATISFACTION',
      questionResponseText: 'Très satisfait',
      questionResponsePostbackData: 'sat-5',
      questionType: 'GOOGLE_STANDARD_QUESTION',
      questionIndex: 1,
      totalQuestionCount: '3',
      surveyTriggerSource: 'BUSINESS',
    };
    expect(events(interpret('bm', { ...base, surveyResponse }))).toEqual([
      expect.objectContaining({
        type: 'survey_response',
        surveyId: 'srv-9',
        rating: 'VERY_SATISFIED',
        questionId: 'GOOGLE_DEFINED_ASSOCIATE_SATISFACTION',
        response: 'Très satisfait',
        postbackData: 'sat-5',
        questionType: 'GOOGLE_STANDARD_QUESTION',
        questionIndex: 1,
        totalQuestionCount: 3,
        dedupeKey: 'req-1',
      }),
    ]);
  });

  test('dialogflowResponse with intents rides along with a message', () => {
    const dialogflowResponse = {
      queryText: 'opening hours',
      intentResponses: [
        {
          intentName: 'projects/p/agent/intents/1',
          intentDisplayName: 'hours',
          intentDetectionConfidence: 0.82,
          fulfillmentMessages: [{ text: 'We open at 7.' }],
        },
      ],
      autoResponded: 'false',
      autoRespondedMessages: [{ responseSource: 'INTENT' }],
    };
    const [e] = events(
      interpret('bm', { ...base, message: { messageId: 'u1', text: 'opening hours' }, dialogflowResponse }),
    );
    expect(e).toMatchObject({
      dialogflow: {
        autoResponded: false,
        queryText: 'opening hours',
        intents: [{ displayName: 'hours', confidence: 0.82 }],
        faqAnswers: [],
      },
    });
  });

  test.each([
    [
      'code only',
      { code: 'abc-code', redirectUri: 'https://x/cb' },
      { kind: 'auth', codeOutcome: 'dropped', redirectUri: 'https://x/cb' },
    ],
    [
      'an empty code',
      { code: '', redirectUri: 'https://x/cb' },
      { kind: 'auth', codeOutcome: 'none', redirectUri: 'https://x/cb' },
    ],
    [
      'error only',
      { errorDetails: { error: 'ACCESS_DENIED', errorDescription: 'user said no' } },
      { kind: 'auth', codeOutcome: 'none', error: { error: 'ACCESS_DENIED', errorDescription: 'user said no' } },
    ],
  ])('authenticationResponse: %s; the code is never in the event', (_name, authenticationResponse, content) => {
    const result = interpret('bm', { ...base, requestId: 'req-auth', authenticationResponse });
    const [e] = events(result);
    expect(e).toEqual(expect.objectContaining({ type: 'message', content }));
    expect(JSON.stringify(e)).not.toContain('abc-code');
    const code = 'code' in authenticationResponse ? authenticationResponse.code : '';
    expect(result.outcome === 'events' ? (result.credentials ?? []) : []).toEqual(
      code
        ? [
            {
              dedupeKey: 'req-auth',
              conversationKey: e?.conversationKey,
              code,
              redirectUri: 'https://x/cb',
              agent: base.agent,
            },
          ]
        : [],
    );
  });

  test('an older signal that still carries the code is read as the outcome it stood for, without the code (withoutCredentials)', () => {
    const legacy = {
      type: 'message',
      channel: 'bm',
      conversationKey: 'bm:c',
      dedupeKey: 'r',
      receivedAt: RECEIVED_AT,
      messageId: 'r',
      content: { kind: 'auth', code: 'old-code', redirectUri: 'https://x/cb' },
    } as unknown as InboundEvent;
    expect(withoutCredentials(legacy)).toEqual({
      ...legacy,
      content: { kind: 'auth', codeOutcome: 'dropped', redirectUri: 'https://x/cb' },
    });
    const noCode = {
      ...legacy,
      content: { kind: 'auth', code: '', error: { error: 'ACCESS_DENIED' } },
    } as unknown as InboundEvent;
    expect(withoutCredentials(noCode)).toMatchObject({
      content: { kind: 'auth', codeOutcome: 'none', error: { error: 'ACCESS_DENIED' } },
    });
    const text = { ...legacy, content: { kind: 'text', text: 'hi' } } as InboundEvent;
    expect(withoutCredentials(text)).toBe(text);
  });

  test('suggestionResponse with the reference spelling `type`', () => {
    const [e] = events(
      interpret('bm', { ...base, suggestionResponse: { postbackData: 'p', text: 'Call', type: 'ACTION' } }),
    );
    expect(e).toMatchObject({ content: { kind: 'suggestion', suggestionType: 'ACTION' } });
  });

  test('a link the user typed stays text; only Google storage URLs are images', () => {
    const [e] = events(interpret('bm', { ...base, message: { messageId: 'u2', text: 'https://example.com/cat.jpg' } }));
    expect(e).toMatchObject({ content: { kind: 'text' } });
  });

  test('without requestId a message dedupes on its messageId, other kinds on a hash of the payload', () => {
    const { requestId: _r, ...noRequest } = base;
    expect(events(interpret('bm', { ...noRequest, message: { messageId: 'u3', text: 'x' } }))[0]?.dedupeKey).toBe(
      'message:u3',
    );
    const typing = (at: string) =>
      events(interpret('bm', { ...noRequest, userStatus: { isTyping: true, createTime: at } }))[0]?.dedupeKey;
    expect(typing('2024-05-14T10:00:00Z')).toBe(typing('2024-05-14T10:00:00Z'));
    expect(typing('2024-05-14T10:00:00Z')).not.toBe(typing('2024-05-14T10:00:09Z'));
  });

  test.each([
    ['no payload member', { ...base, somethingNew: { a: 1 } }, 'bm.unknown'],
    [
      'a new receipt type',
      { ...base, receipts: { receipts: [{ message: 'conversations/conv-1/messages/m', receiptType: 'PLAYED' }] } },
      'bm.receipts.PLAYED',
    ],
    [
      'a userStatus with nothing known in it',
      { ...base, userStatus: { createTime: '2024-05-14T10:00:00Z', isRecording: true } },
      'bm.userStatus.empty',
    ],
  ])('%s is unrecognized', (_name, payload, kind) => {
    expect(interpret('bm', payload)).toMatchObject({ outcome: 'unrecognized', kind });
  });

  test.each([
    [
      'receipt without receiptType',
      { ...base, receipts: { receipts: [{ message: 'conversations/conv-1/messages/m' }] } },
      'receipts.receipts[0].receiptType',
    ],
    [
      'receipt with a bad message name',
      { ...base, receipts: { receipts: [{ message: 'm', receiptType: 'READ' }] } },
      'receipts.receipts[0].message',
    ],
    ['empty receipts', { ...base, receipts: { receipts: [] } }, 'receipts.receipts'],
    [
      'conversationId with a slash',
      { ...base, conversationId: 'a/b', message: { messageId: 'u', text: 'x' } },
      'conversationId',
    ],
    ['missing conversationId', { requestId: 'r', message: { messageId: 'u', text: 'x' } }, 'conversationId'],
    ['message without text', { ...base, message: { messageId: 'u' } }, 'message.text'],
    [
      'authenticationResponse with neither code nor errorDetails',
      { ...base, authenticationResponse: { redirectUri: 'https://x' } },
      'authenticationResponse',
    ],
    ['isTyping not a boolean', { ...base, userStatus: { isTyping: 'maybe' } }, 'userStatus.isTyping'],
    [
      'context locale not a string',
      { ...base, message: { messageId: 'u', text: 'x' }, context: { resolvedLocale: 5 } },
      'context.resolvedLocale',
    ],
    [
      'two payload members',
      { ...base, message: { messageId: 'u', text: 'x' }, userStatus: { isTyping: true } },
      '(body)',
    ],
    ['not an object', [1, 2], '(body)'],
  ])('%s is invalid and names the field', (_name, payload, field) => {
    const result = interpret('bm', payload);
    expect(result.outcome).toBe('invalid');
    if (result.outcome === 'invalid') expect(result.problems.map((p) => p.field)).toContain(field);
  });
});
