/**
 * The seed payload fixtures (test/fixtures/seeds): each keeps the shape and field set of one JSON
 * example in Google's guides (seeds 000–004) with realistic values, plus the events it must become.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import {
  bmConversationKey,
  type Channel,
  type ConversationKey,
  rbmConversationKey,
} from '../../src/domain/conversation-key';
import { type InboundEvent } from '../../src/domain/inbound';
import { signedBmRequest, signedRbmRequest } from '../helpers/signing';

export interface SeedFixture {
  name: string;
  seed: string;
  section: string;
  channel: Channel;
  /** True when the guide shows only part of the payload (then the fixture's shape must contain it). */
  fragment?: boolean;
  /** The guide's example, placeholders kept, JSON syntax repaired (trailing commas, a missing comma). */
  documented: unknown;
  /** The same shape with realistic values (for RBM: the decoded message.data). */
  payload: Record<string, unknown>;
}

const DIR = path.join(__dirname, '..', 'fixtures', 'seeds');

export function loadSeedFixtures(): SeedFixture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.json$/, ''),
      ...(JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Omit<SeedFixture, 'name'>),
    }));
}

/** The conversation every fixture is written for. */
export const FIXTURE_CONVERSATION_ID = '6f1c2e0a-9b3d-4f7e-8a21-5c4d3e2b1a90';
export const FIXTURE_PHONE = '+14155550123';
export const FIXTURE_AGENT = 'switchboard-demo@rbm.goog';

/** A fresh E.164 number (UK mobile range), so each test has its own conversation. */
export function randomPhone(): string {
  return `+447${String(randomInt(100_000_000, 999_999_999))}`;
}

/**
 * The fixture moved to a conversation of its own: the conversation id (BM) or the phone number
 * (RBM) is replaced everywhere it appears; nothing else changes.
 */
export function personalize(fixture: SeedFixture): { payload: Record<string, unknown>; key: ConversationKey } {
  const text = JSON.stringify(fixture.payload);
  if (fixture.channel === 'bm') {
    const conversationId = randomUUID();
    return {
      payload: JSON.parse(text.split(FIXTURE_CONVERSATION_ID).join(conversationId)) as Record<string, unknown>,
      key: bmConversationKey(conversationId),
    };
  }
  const phone = randomPhone();
  return {
    payload: JSON.parse(text.split(FIXTURE_PHONE).join(phone)) as Record<string, unknown>,
    key: rbmConversationKey(FIXTURE_AGENT, phone),
  };
}

/** A signed request for a fixture's channel. */
export function signedRequest(
  channel: Channel,
  token: string,
  payload: unknown,
): { body: string; headers: Record<string, string> } {
  return channel === 'rbm' ? signedRbmRequest(token, payload) : signedBmRequest(token, payload);
}

type Expected = Partial<InboundEvent> & Record<string, unknown>;

const BM_CONTEXT = {
  entryPoint: 'PLACESHEET',
  placeId: 'ChIJLU7jZClu5kcR4PcOOO6p3I0',
  resolvedLocale: 'fr',
  displayName: 'Camille Martin',
  userDeviceLocale: 'fr-FR',
};

/** The events each fixture must become, in order (receivedAt left out: it is the time of the test). */
export const EXPECTED: Record<string, (key: ConversationKey) => Expected[]> = {
  'bm-receipt-delivered': (key) => [
    {
      type: 'receipt',
      channel: 'bm',
      conversationKey: key,
      messageId: 'sb-out-7f3a9c21',
      receipt: 'DELIVERED',
      occurredAt: '2024-05-14T09:31:07.120000Z',
      dedupeKey: `receipt:conversations/${key.slice(3)}/messages/sb-out-7f3a9c21:DELIVERED`,
    },
  ],
  'bm-receipt-read': (key) => [
    {
      type: 'receipt',
      channel: 'bm',
      conversationKey: key,
      messageId: 'sb-out-7f3a9c21',
      receipt: 'READ',
      occurredAt: '2024-05-14T09:31:07.120000Z',
      dedupeKey: `receipt:conversations/${key.slice(3)}/messages/sb-out-7f3a9c21:READ`,
    },
  ],
  'bm-message-text': (key) => [
    {
      type: 'message',
      channel: 'bm',
      conversationKey: key,
      dedupeKey: '8f0c6b1e-4d2a-4c3b-9e7f-1a2b3c4d5e6f',
      messageId: '4F0D9B52-31C6-4E8A-9A7B-2C1D0E9F8A7B',
      occurredAt: '2024-05-14T09:30:58.904Z',
      content: { kind: 'text', text: 'Bonjour, êtes-vous ouverts dimanche ?' },
      context: BM_CONTEXT,
      dialogflow: {
        autoResponded: true,
        faqAnswers: [
          {
            question: 'Quels sont vos horaires ?',
            answer: 'Nous sommes ouverts du mardi au dimanche, de 7 h à 19 h.',
            confidence: 0.91,
            confidenceLevel: 'HIGH',
          },
        ],
        intents: [],
      },
    },
  ],
  'bm-message-image': (key) => [
    {
      type: 'message',
      channel: 'bm',
      conversationKey: key,
      dedupeKey: '2b9e4f7a-0c1d-4e5f-8a9b-6c7d8e9f0a1b',
      messageId: '9C2B7E14-5A3F-4D6B-8E1C-0F9A8B7C6D5E',
      content: { kind: 'image', url: expectString(/^https:\/\/storage\.googleapis\.com\/business-messages-us\//) },
      context: BM_CONTEXT,
    },
  ],
  'bm-suggestion-response': (key) => [
    {
      type: 'message',
      channel: 'bm',
      conversationKey: key,
      dedupeKey: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
      messageId: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
      occurredAt: '2024-05-14T09:33:40.118Z',
      content: {
        kind: 'suggestion',
        postbackData: 'order_pickup_sunday',
        text: 'Retrait dimanche',
        suggestionType: 'REPLY',
        inReplyTo: 'sb-out-1c9e2f44',
      },
      context: BM_CONTEXT,
    },
  ],
  'bm-authentication-response': (key) => [
    {
      type: 'message',
      channel: 'bm',
      conversationKey: key,
      dedupeKey: '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d',
      occurredAt: '2024-05-14T09:35:02.777Z',
      // The code rides apart (InboundCredential) and is dropped unless AUTH_CODE_URL takes it: never in the event.
      content: {
        kind: 'auth',
        codeOutcome: 'dropped',
        redirectUri: 'https://business.google.com/callback',
        error: { error: 'ERROR_UNSPECIFIED', errorDescription: '' },
      },
    },
  ],
  'bm-context-full': (key) => [
    {
      type: 'message',
      channel: 'bm',
      conversationKey: key,
      dedupeKey: 'c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f',
      content: { kind: 'text', text: 'Hallo, haben Sie glutenfreies Brot?' },
      context: {
        customContext: 'campaign=spring-2024',
        entryPoint: 'WEB_WIDGET',
        placeId: 'ChIJLU7jZClu5kcR4PcOOO6p3I0',
        nearPlaceId: 'ChIJD7fiBh9u5kcRYJSMaMOCCwQ',
        deflectedPhoneNumber: '+33142685300',
        resolvedLocale: 'de',
        displayName: 'Jonas Weber',
        userDeviceLocale: 'de-AT',
        widget: { url: 'https://www.example-boulangerie.fr/contact', widgetContext: 'contact-page' },
      },
    },
  ],
  'rbm-ttl-expiration-revoked': (key) => [
    {
      type: 'ttl_expired',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'sb-out-0d4e8b2f1a',
      revoked: true,
      dedupeKey: 'MxH3fK0pQvR7y2T9wZ1cA4b',
      occurredAt: '2024-05-14T11:00:03.512Z',
    },
  ],
  'rbm-ttl-expiration-revoke-failed': (key) => [
    {
      type: 'ttl_expired',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'sb-out-0d4e8b2f1a',
      revoked: false,
      dedupeKey: 'MxH3fK0pQvR7y2T9wZ1cA4c',
      occurredAt: '2024-05-14T11:00:03.512Z',
    },
  ],
  'rbm-user-event-delivered': (key) => [
    {
      type: 'receipt',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'sb-out-5c3a9e7d21',
      receipt: 'DELIVERED',
      dedupeKey: 'MxDv9e2Lq8RkT4uY7iO0pA',
    },
  ],
  'rbm-user-event-read': (key) => [
    {
      type: 'receipt',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'sb-out-5c3a9e7d21',
      receipt: 'READ',
      dedupeKey: 'MxRd1a7Ws3EdC5rF6tG8hY',
    },
  ],
  'rbm-user-event-is-typing': (key) => [
    { type: 'typing', channel: 'rbm', conversationKey: key, isTyping: true, dedupeKey: 'MxTy4u8Ik2Ol6Pz0Xc3Vb5' },
  ],
  'rbm-user-message-text': (key) => [
    {
      type: 'message',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'MxTx7n3Bm5Vc1Xz9Lk2Jh4',
      dedupeKey: 'MxTx7n3Bm5Vc1Xz9Lk2Jh4',
      content: { kind: 'text', text: 'Hi' },
    },
  ],
  'rbm-user-message-file': (key) => [
    {
      type: 'message',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'MxFl2k6Jh0Gf4Ds8Aq1We3',
      dedupeKey: 'MxFl2k6Jh0Gf4Ds8Aq1We3',
      content: {
        kind: 'file',
        file: {
          mimeType: 'image/gif',
          fileSizeBytes: 127806,
          fileName: '4_animated.gif',
          fileUri:
            'https://storage.googleapis.com/copper_test/77ddb795-24ad-4607-96ae-b08b4d86406a/d2dcc67ab888d34ee272899c020b13402856f81597228322079eb007e8c9',
        },
      },
    },
  ],
  'rbm-suggestion-reply': (key) => [
    {
      type: 'message',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'MxSr5t9Yu3Io7Pa1Sd4Fg6',
      dedupeKey: 'MxSr5t9Yu3Io7Pa1Sd4Fg6',
      content: { kind: 'suggestion', postbackData: 'postback_1234', text: 'Hello there!', suggestionType: 'REPLY' },
    },
  ],
  'rbm-suggestion-action': (key) => [
    {
      type: 'message',
      channel: 'rbm',
      conversationKey: key,
      messageId: 'MxSa8q2We6Rt0Yu4Io7Pk9',
      dedupeKey: 'MxSa8q2We6Rt0Yu4Io7Pk9',
      content: { kind: 'suggestion', postbackData: 'postback_1234', suggestionType: 'ACTION' },
    },
  ],
};

function expectString(pattern: RegExp): string {
  return expect.stringMatching(pattern) as unknown as string;
}
