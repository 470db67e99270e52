/**
 * Business Messages inbound: the body is the `UserMessage` JSON itself (signed as raw bytes);
 * exactly one payload field says what it is (reference §1.1). Each member is normalized into
 * InboundEvents of conversation `bm:{conversationId}`.
 *
 * Dedupe keys: `requestId` (documented for de-duplication; redeliveries repeat it). Receipts get
 * one key per receipt, `${requestId}:${messageName}:${receiptType}`; the guide's receipt examples
 * carry no requestId, and then the receipt's own identity (`receipt:${messageName}:${receiptType}`)
 * is the key, which is stable because a message is DELIVERED or READ once. Any other payload
 * without a requestId falls back to the message id or a hash of the payload member.
 */
import { type z } from 'zod';

import { bmConversationKey } from '../../domain/conversation-key';
import {
  type DialogflowInfo,
  type InboundContext,
  type InboundEvent,
  type InboundEventBody,
  type MessageContent,
} from '../../domain/inbound';
import {
  digest,
  type FieldProblem,
  type InboundCredential,
  type InboundInterpretation,
  isObject,
  label,
  NOT_JSON,
  type OpenResult,
  parseWith,
} from '../inbound-payload';
import {
  BM_PAYLOAD_FIELDS,
  BM_RECEIPT_TYPES,
  bmAuthenticationResponseSchema,
  type BmCommon,
  bmCommonSchema,
  bmMessageSchema,
  type BmPayloadField,
  bmReceiptsSchema,
  bmSuggestionResponseSchema,
  bmSurveyResponseSchema,
  bmUserStatusSchema,
} from './inbound-schema';

/** Opens a Business Messages body: the raw bytes are what is signed; `agent` picks the client token. */
export function openBmDelivery(json: unknown, raw: Uint8Array): OpenResult {
  const agentHint = isObject(json) && typeof json.agent === 'string' ? json.agent : undefined;
  return {
    ok: true,
    payload: { signedBytes: raw, agentHint, interpret: (receivedAt) => interpretBmPayload(json, receivedAt) },
  };
}

/** Reads a verified Business Messages delivery (`body` is NOT_JSON when the signed bytes are not JSON). */
function interpretBmPayload(body: unknown, receivedAt: string): InboundInterpretation {
  if (body === NOT_JSON) return invalid('bm.malformed_json', [{ field: '(body)', message: 'is not valid JSON' }]);
  if (!isObject(body)) return invalid('bm.unknown', [{ field: '(body)', message: 'must be a JSON object' }]);
  const present = BM_PAYLOAD_FIELDS.filter((f) => body[f] !== undefined && body[f] !== null);
  if (present.length === 0) {
    return { outcome: 'unrecognized', kind: 'bm.unknown', reason: `none of ${BM_PAYLOAD_FIELDS.join(', ')} is set` };
  }
  if (present.length > 1) {
    return invalid('bm.unknown', [
      {
        field: '(body)',
        message: `a delivery carries exactly one of ${BM_PAYLOAD_FIELDS.join(', ')}; got ${present.join(', ')}`,
      },
    ]);
  }
  const member = present[0] as BmPayloadField;
  const kind = `bm.${member}`;

  const unknown = unknownVariant(member, body[member]);
  if (unknown) return { outcome: 'unrecognized', ...unknown };

  const common = parseWith(bmCommonSchema, body);
  const problems: FieldProblem[] = common.ok ? [] : [...common.problems];
  const payload = parseMember(member, body[member]);
  if (!payload.ok) problems.push(...payload.problems);
  if (!common.ok || !payload.ok) return invalid(kind, problems);

  const c = common.value;
  const base = { channel: 'bm' as const, conversationKey: bmConversationKey(c.conversationId), receivedAt };
  const events = normalize(payload.value, c, base, body[member]);
  if (events.length === 0)
    return { outcome: 'unrecognized', kind: `${kind}.empty`, reason: `${member} carries nothing this build acts on` };
  const credentials = credentialsOf(payload.value, c, events);
  return { outcome: 'events', kind, events, ...(credentials.length > 0 ? { credentials } : {}) };
}

/** The authorization code of a sign-in, apart from its event (the API hands it over and drops it). */
function credentialsOf(p: Parsed, c: BmCommon, events: InboundEvent[]): InboundCredential[] {
  const [event] = events;
  if (p.member !== 'authenticationResponse' || p.value.code === undefined || p.value.code === '' || !event) return [];
  const redirectUri = p.value.redirectUri ?? p.value.redirect_uri;
  return [
    {
      dedupeKey: event.dedupeKey,
      conversationKey: event.conversationKey,
      code: p.value.code,
      ...(c.agent !== undefined ? { agent: c.agent } : {}),
      ...(redirectUri !== undefined ? { redirectUri } : {}),
    },
  ];
}

function invalid(kind: string, problems: FieldProblem[]): InboundInterpretation {
  return { outcome: 'invalid', kind, problems };
}

/** A member whose discriminating value is new to this build (not a schema violation). */
function unknownVariant(member: BmPayloadField, value: unknown): { kind: string; reason: string } | undefined {
  if (member === 'receipts' && isObject(value) && Array.isArray(value.receipts)) {
    for (const r of value.receipts as unknown[]) {
      const type = isObject(r) ? r.receiptType : undefined;
      if (typeof type === 'string' && !(BM_RECEIPT_TYPES as readonly string[]).includes(type)) {
        return { kind: `bm.receipts.${label(type)}`, reason: 'receipt type not known to this build' };
      }
    }
  }
  return undefined;
}

type Parsed =
  | { member: 'message'; value: z.output<typeof bmMessageSchema> }
  | { member: 'suggestionResponse'; value: z.output<typeof bmSuggestionResponseSchema> }
  | { member: 'authenticationResponse'; value: z.output<typeof bmAuthenticationResponseSchema> }
  | { member: 'receipts'; value: z.output<typeof bmReceiptsSchema> }
  | { member: 'userStatus'; value: z.output<typeof bmUserStatusSchema> }
  | { member: 'surveyResponse'; value: z.output<typeof bmSurveyResponseSchema> };

function parseMember(
  member: BmPayloadField,
  value: unknown,
): { ok: true; value: Parsed } | { ok: false; problems: FieldProblem[] } {
  const wrap = <M extends Parsed['member'], S extends z.ZodType>(m: M, schema: S) => {
    const r = parseWith(schema, value, m);
    return r.ok ? { ok: true as const, value: { member: m, value: r.value } as Parsed } : r;
  };
  switch (member) {
    case 'message':
      return wrap(member, bmMessageSchema);
    case 'suggestionResponse':
      return wrap(member, bmSuggestionResponseSchema);
    case 'authenticationResponse':
      return wrap(member, bmAuthenticationResponseSchema);
    case 'receipts':
      return wrap(member, bmReceiptsSchema);
    case 'userStatus':
      return wrap(member, bmUserStatusSchema);
    case 'surveyResponse':
      return wrap(member, bmSurveyResponseSchema);
  }
}

type Base = { channel: 'bm'; conversationKey: string; receivedAt: string };

function normalize(p: Parsed, c: BmCommon, base: Base, rawMember: unknown): InboundEvent[] {
  // Without a requestId, a hash of the member is still identical on every redelivery of the same payload.
  const requestKey = c.requestId ?? `bm-${p.member}-${digest(JSON.stringify(rawMember))}`;
  const event = (body: InboundEventBody, occurredAt: string | undefined, dedupeKey = requestKey): InboundEvent => ({
    ...base,
    dedupeKey,
    occurredAt: occurredAt ?? c.sendTime,
    ...body,
  });
  const context = contextOf(c);

  switch (p.member) {
    case 'message': {
      const m = p.value;
      const messageId = m.messageId ?? lastSegment(m.name ?? '');
      const content: MessageContent = imageUrl(m.text)
        ? { kind: 'image', url: m.text.trim() }
        : { kind: 'text', text: m.text };
      const dialogflow = c.dialogflowResponse ? dialogflowOf(c.dialogflowResponse) : undefined;
      return [
        event(
          {
            type: 'message',
            messageId,
            content,
            ...(context ? { context } : {}),
            ...(dialogflow ? { dialogflow } : {}),
          },
          m.createTime,
          c.requestId ?? `message:${messageId}`,
        ),
      ];
    }
    case 'suggestionResponse': {
      const s = p.value;
      const content: MessageContent = {
        kind: 'suggestion',
        postbackData: s.postbackData,
        text: s.text,
        suggestionType: suggestionType(s.type ?? s.suggestionType),
      };
      if (s.message !== undefined) content.inReplyTo = lastSegment(s.message);
      // A tapped suggestion has no user message id of its own; the delivery's key stands in for it.
      return [
        event({ type: 'message', messageId: requestKey, content, ...(context ? { context } : {}) }, s.createTime),
      ];
    }
    case 'authenticationResponse': {
      const a = p.value;
      // The code itself rides apart (credentialsOf) and never enters the event: until the API handed it over, it is `dropped`.
      const content: MessageContent = {
        kind: 'auth',
        codeOutcome: a.code !== undefined && a.code !== '' ? 'dropped' : 'none',
      };
      const redirectUri = a.redirectUri ?? a.redirect_uri;
      if (redirectUri !== undefined) content.redirectUri = redirectUri;
      if (a.errorDetails !== undefined)
        content.error = { error: a.errorDetails.error, errorDescription: a.errorDetails.errorDescription };
      return [event({ type: 'message', messageId: requestKey, content, ...(context ? { context } : {}) }, undefined)];
    }
    case 'receipts': {
      const r = p.value;
      return r.receipts.map((receipt) =>
        event(
          { type: 'receipt', messageId: lastSegment(receipt.message), receipt: receipt.receiptType },
          r.createTime,
          `${c.requestId ?? 'receipt'}:${receipt.message}:${receipt.receiptType}`,
        ),
      );
    }
    case 'userStatus': {
      const u = p.value;
      const bodies: InboundEventBody[] = [];
      if (u.isTyping !== undefined) bodies.push({ type: 'typing', isTyping: u.isTyping });
      if (u.requestedLiveAgent === true) bodies.push({ type: 'live_agent_requested' });
      // Both in one status is not documented; if it happens each event still needs its own key.
      return bodies.map((b) => event(b, u.createTime, bodies.length > 1 ? `${requestKey}:${b.type}` : requestKey));
    }
    case 'surveyResponse': {
      const s = p.value;
      const body: InboundEventBody = { type: 'survey_response' };
      if (s.survey !== undefined) body.surveyId = lastSegment(s.survey);
      if (s.rating !== undefined) body.rating = s.rating;
      if (s.surveyQuestionId !== undefined) body.questionId = s.surveyQuestionId;
      const response = s.questionResponseText ?? s.feedback;
      if (response !== undefined) body.response = response;
      if (s.questionResponsePostbackData !== undefined) body.postbackData = s.questionResponsePostbackData;
      if (s.questionType !== undefined) body.questionType = s.questionType;
      if (s.questionIndex !== undefined) body.questionIndex = s.questionIndex;
      if (s.totalQuestionCount !== undefined) body.totalQuestionCount = s.totalQuestionCount;
      return [event(body, s.createTime)];
    }
  }
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/**
 * Business Messages has no image content type: an image arrives as a text holding a signed,
 * time-limited Google storage URL. Only such URLs count; a link the user typed stays text.
 */
function imageUrl(text: string): boolean {
  const t = text.trim();
  if (!t.startsWith('https://') || /\s/.test(t)) return false;
  try {
    const host = new URL(t).hostname;
    return host === 'storage.googleapis.com' || host.endsWith('.googleusercontent.com');
  } catch {
    return false;
  }
}

function suggestionType(type: string | undefined): 'REPLY' | 'ACTION' | 'UNKNOWN' {
  return type === 'REPLY' || type === 'ACTION' ? type : 'UNKNOWN';
}

function contextOf(c: BmCommon): InboundContext | undefined {
  const x = c.context;
  if (!x) return undefined;
  const out: InboundContext = {};
  if (x.resolvedLocale !== undefined) out.resolvedLocale = x.resolvedLocale;
  if (x.userInfo?.userDeviceLocale !== undefined) out.userDeviceLocale = x.userInfo.userDeviceLocale;
  if (x.userInfo?.displayName !== undefined) out.displayName = x.userInfo.displayName;
  if (x.placeId !== undefined) out.placeId = x.placeId;
  if (x.nearPlaceId !== undefined) out.nearPlaceId = x.nearPlaceId;
  if (x.entryPoint !== undefined) out.entryPoint = x.entryPoint;
  if (x.customContext !== undefined) out.customContext = x.customContext;
  if (x.widget !== undefined) out.widget = { url: x.widget.url, widgetContext: x.widget.widgetContext };
  if (x.deflectedPhoneNumber !== undefined) out.deflectedPhoneNumber = x.deflectedPhoneNumber;
  return out;
}

function dialogflowOf(d: NonNullable<BmCommon['dialogflowResponse']>): DialogflowInfo {
  return {
    autoResponded: d.autoResponded ?? false,
    ...(d.queryText !== undefined ? { queryText: d.queryText } : {}),
    faqAnswers: (d.faqResponse?.answers ?? []).map((a) => ({
      question: a.faqQuestion,
      answer: a.faqAnswer,
      confidence: a.matchConfidence,
      confidenceLevel: a.matchConfidenceLevel,
    })),
    intents: (d.intentResponses ?? []).map((i) => ({
      displayName: i.intentDisplayName,
      confidence: i.intentDetectionConfidence,
    })),
  };
}

/** A `"code": …` member (a string, even one cut off at the end of the body, or any other JSON value). */
const CODE_MEMBER = /("code"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)/g;

/**
 * The body with every `code` value replaced by "[removed]" when it holds an authenticationResponse,
 * or undefined when it has none to remove. For a signed body that is kept rather than delivered
 * (src/api/webhook-processor.ts park): the authorization code must not reach Temporal there either.
 * Textual, so it also covers a body that is not valid JSON; the rest of the bytes stay as they were
 * (the signature no longer matches, so such an entry cannot be replayed).
 */
export function withoutAuthCodes(body: Uint8Array): Uint8Array | undefined {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (!text.includes('authenticationResponse')) return undefined;
  let removed = false;
  const redacted = text.replace(CODE_MEMBER, (_match, member: string) => {
    removed = true;
    return `${member}"[removed]"`;
  });
  return removed ? Buffer.from(redacted, 'utf8') : undefined;
}
