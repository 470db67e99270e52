/**
 * zod schemas of the Business Messages `UserMessage` posted to a webhook (reference §1): common
 * fields, the full `context`, `dialogflowResponse` (FAQ and intents) and each member of the payload
 * union (message, suggestionResponse, authenticationResponse, receipts, userStatus,
 * surveyResponse). Objects are loose: unknown fields are kept, never rejected. Enum-like values
 * (entryPoint, rating, …) stay strings so a value Google adds later is not a 400.
 */
import { z } from 'zod';

import { boolish, googleId, numberish, timestamp } from '../inbound-payload';

/** Part of the workflow id (`conv-bm-{conversationId}`): printable ASCII, no `/`, bounded. */
export const bmConversationId = z
  .string()
  .regex(/^[\x21-\x2e\x30-\x7e]{1,256}$/, 'must be 1 to 256 printable ASCII characters without "/" or spaces');

/** `conversations/{conversationId}/messages/{messageId}`. */
const bmMessageName = z
  .string()
  .regex(
    /^conversations\/[^/]+\/messages\/[^/]+$/,
    'must look like conversations/{conversationId}/messages/{messageId}',
  );

/** Where and how the user started the conversation (reference §1.3, plus the guide's deflectedPhoneNumber). */
const bmContextSchema = z.looseObject({
  entryPoint: z.string().optional(),
  placeId: z.string().max(512).optional(),
  nearPlaceId: z.string().max(512).optional(),
  resolvedLocale: z.string().max(64).optional(),
  customContext: z.string().optional(),
  /** Shown by the French receive guide, absent from the reference: optional and unverified. */
  deflectedPhoneNumber: z.string().max(64).optional(),
  userInfo: z
    .looseObject({ displayName: z.string().optional(), userDeviceLocale: z.string().max(64).optional() })
    .optional(),
  widget: z.looseObject({ url: z.string().optional(), widgetContext: z.string().optional() }).optional(),
});

/** Dialogflow / FAQ results that may ride along with a delivery (reference §1.9). */
const bmDialogflowResponseSchema = z.looseObject({
  queryText: z.string().optional(),
  autoResponded: boolish.optional(),
  faqResponse: z
    .looseObject({
      userQuestion: z.string().optional(),
      answers: z
        .array(
          z.looseObject({
            faqQuestion: z.string().optional(),
            faqAnswer: z.string().optional(),
            matchConfidenceLevel: z.string().optional(),
            matchConfidence: numberish.optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  intentResponses: z
    .array(
      z.looseObject({
        intentName: z.string().optional(),
        intentDisplayName: z.string().optional(),
        intentDetectionConfidence: numberish.optional(),
        fulfillmentMessages: z.array(z.unknown()).optional(),
      }),
    )
    .optional(),
  autoRespondedMessages: z.array(z.unknown()).optional(),
});

/** Fields every Business Messages delivery may carry beside its payload. */
export const bmCommonSchema = z.looseObject({
  conversationId: bmConversationId,
  /** Unique per delivery, repeated by redeliveries: the documented dedupe key. The receipts examples omit it. */
  requestId: googleId.optional(),
  agent: z.string().max(512).optional(),
  customAgentId: z.string().optional(),
  sendTime: timestamp.optional(),
  context: bmContextSchema.optional(),
  dialogflowResponse: bmDialogflowResponseSchema.optional(),
});
/** The parsed common fields. */
export type BmCommon = z.output<typeof bmCommonSchema>;

/** A user message: text, or an image as a signed URL in `text`. */
export const bmMessageSchema = z
  .looseObject({
    messageId: googleId.optional(),
    name: bmMessageName.optional(),
    /** Text, or the signed URL of an image the user sent. */
    text: z.string(),
    createTime: timestamp.optional(),
  })
  .refine((m) => m.messageId !== undefined || m.name !== undefined, {
    message: 'needs messageId or name',
    path: ['messageId'],
  });

/** The user tapped a suggested reply or action. */
export const bmSuggestionResponseSchema = z.looseObject({
  /** Our message the suggestion belonged to. */
  message: bmMessageName.optional(),
  postbackData: z.string(),
  createTime: timestamp.optional(),
  text: z.string().optional(),
  /** Reference: `type`; the receive guide's example: `suggestionType`. */
  type: z.string().optional(),
  suggestionType: z.string().optional(),
});

/** Result of an OAuth suggestion: an authorization code or the error. */
export const bmAuthenticationResponseSchema = z
  .looseObject({
    code: z.string().optional(),
    redirectUri: z.string().optional(),
    /** The receive guide spells it in snake case. */
    redirect_uri: z.string().optional(),
    errorDetails: z.looseObject({ error: z.string().optional(), errorDescription: z.string().optional() }).optional(),
  })
  .refine((a) => a.code !== undefined || a.errorDetails !== undefined, { message: 'needs code or errorDetails' });

/** Receipt types this build handles; any other value makes the payload an unrecognized kind. */
export const BM_RECEIPT_TYPES = ['DELIVERED', 'READ'] as const;

/** One or more DELIVERED / READ receipts for our messages. */
export const bmReceiptsSchema = z.looseObject({
  receipts: z
    .array(z.looseObject({ message: bmMessageName, receiptType: z.enum(BM_RECEIPT_TYPES) }))
    .min(1, 'must hold at least one receipt')
    .max(1000, 'must hold at most 1000 receipts'),
  createTime: timestamp.optional(),
});

/** Typing state changes and live-agent requests. */
export const bmUserStatusSchema = z.looseObject({
  createTime: timestamp.optional(),
  isTyping: boolish.optional(),
  requestedLiveAgent: boolish.optional(),
});

/** One answered survey question (each arrives as its own delivery). */
export const bmSurveyResponseSchema = z.looseObject({
  /** `conversations/{c}/surveys/{surveyId}`. */
  survey: z.string().optional(),
  rating: z.string().optional(),
  feedback: z.string().optional(),
  createTime: timestamp.optional(),
  surveyQuestionId: z.string().optional(),
  questionResponseText: z.string().optional(),
  questionResponsePostbackData: z.string().optional(),
  questionType: z.string().optional(),
  questionIndex: numberish.pipe(z.number().int().min(0)).optional(),
  totalQuestionCount: numberish.pipe(z.number().int().min(0)).optional(),
  surveyTriggerSource: z.string().optional(),
});

/** The payload union: exactly one is set per delivery. */
export const BM_PAYLOAD_FIELDS = [
  'message',
  'suggestionResponse',
  'authenticationResponse',
  'receipts',
  'userStatus',
  'surveyResponse',
] as const;
/** One of BM_PAYLOAD_FIELDS. */
export type BmPayloadField = (typeof BM_PAYLOAD_FIELDS)[number];
