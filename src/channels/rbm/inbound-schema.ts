/**
 * zod schemas of what RBM posts to a webhook: the Pub/Sub-style envelope and, inside its base64
 * `message.data`, user messages, user events and server events (reference §2). Objects are loose:
 * fields Google adds later are kept, never rejected. Discriminators are read before these schemas
 * run (see inbound.ts), so a value that is merely unknown (a new eventType) is not a schema error.
 */
import { z } from 'zod';

import { googleId, numberish, timestamp } from '../inbound-payload';

/** E.164, as in conversation keys: the number is part of the workflow id, so it must parse. */
export const rbmPhoneNumber = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +14155550123');

/** `xyz@rbm.goog`: printable ASCII, bounded (it becomes part of a workflow id). */
export const rbmAgentId = z
  .string()
  .regex(/^[\x21-\x7e]{1,256}$/, 'must be 1 to 256 printable ASCII characters without spaces');

/** Standard or URL-safe base64 (Pub/Sub push writes standard). */
const base64 = z
  .string()
  .min(1, 'must not be empty')
  .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

/** The Pub/Sub push body RBM posts; `message.data` is the base64 event JSON (and what is signed). */
export const rbmEnvelopeSchema = z.looseObject({
  message: z.looseObject({
    data: base64,
    // Google's own example shows both spellings of the Pub/Sub fields.
    messageId: googleId.optional(),
    message_id: googleId.optional(),
    publishTime: timestamp.optional(),
    publish_time: timestamp.optional(),
    /** Set on agent launch events (`type: "agent_launch_event"`); Pub/Sub attributes are strings. */
    attributes: z.record(z.string(), z.unknown()).optional(),
  }),
  subscription: z.string().optional(),
});
/** A parsed RBM envelope. */
export type RbmEnvelope = z.output<typeof rbmEnvelopeSchema>;

/** FileInfo of a userFile's payload or thumbnail; the URI is what makes it usable. */
const rbmFileInfoSchema = z.looseObject({
  mimeType: z.string().optional(),
  fileSizeBytes: numberish.optional(),
  fileName: z.string().optional(),
  fileUri: z.string().min(1, 'must not be empty'),
});

const common = {
  agentId: rbmAgentId,
  sendTime: timestamp.optional(),
  eventId: googleId.optional(),
};

/** A user message: exactly one of text, userFile, location, suggestionResponse. */
export const rbmUserMessageSchema = z.looseObject({
  ...common,
  senderPhoneNumber: rbmPhoneNumber,
  /** Reference: messageId. The receive-events guide shows eventId instead; either is accepted. */
  messageId: googleId.optional(),
  text: z.string().optional(),
  userFile: z.looseObject({ payload: rbmFileInfoSchema, thumbnail: rbmFileInfoSchema.optional() }).optional(),
  location: z
    .looseObject({
      latitude: numberish.pipe(z.number().min(-90).max(90)),
      longitude: numberish.pipe(z.number().min(-180).max(180)),
    })
    .optional(),
  suggestionResponse: z
    .looseObject({
      postbackData: z.string(),
      text: z.string().optional(),
      /** UNKNOWN | ACTION | REPLY; absent in the guide's examples. */
      type: z.string().optional(),
    })
    .optional(),
  richMessageClassification: z.unknown().optional(),
  carrier: z.string().optional(),
});
/** A parsed RBM user message. */
export type RbmUserMessage = z.output<typeof rbmUserMessageSchema>;

/** The content fields of a user message (a proto oneof). */
export const RBM_CONTENT_FIELDS = ['text', 'userFile', 'location', 'suggestionResponse'] as const;

/** User event types this build handles; any other value is an unrecognized kind, not a schema error. */
export const RBM_USER_EVENT_TYPES = ['DELIVERED', 'READ', 'IS_TYPING', 'SUBSCRIBE', 'UNSUBSCRIBE'] as const;
/** One of RBM_USER_EVENT_TYPES. */
export type RbmUserEventType = (typeof RBM_USER_EVENT_TYPES)[number];

/** A user event: the user's phone did something (DELIVERED, READ, IS_TYPING, SUBSCRIBE, UNSUBSCRIBE). */
export const rbmUserEventSchema = z.looseObject({
  ...common,
  senderPhoneNumber: rbmPhoneNumber,
  eventType: z.enum(RBM_USER_EVENT_TYPES),
  /** Our agent message id; set for DELIVERED and READ only. */
  messageId: googleId.optional(),
});
/** A parsed RBM user event. */
export type RbmUserEvent = z.output<typeof rbmUserEventSchema>;

/** Server event types this build handles (reference §2.6 lists no others). */
export const RBM_SERVER_EVENT_TYPES = ['TTL_EXPIRATION_REVOKED', 'TTL_EXPIRATION_REVOKE_FAILED'] as const;

/** A server event about one of our messages: TTL expiry, revoked or not. */
export const rbmServerEventSchema = z.looseObject({
  ...common,
  phoneNumber: rbmPhoneNumber,
  eventType: z.enum(RBM_SERVER_EVENT_TYPES),
  /** The agent message that expired. */
  messageId: googleId,
});
/**
 * An agent launch event (reference §2.6): the agent's launch state at a carrier changed. The
 * envelope's `attributes.type == "agent_launch_event"` also says so, but it is not signed; the data's
 * own launch-state fields are what identify it.
 */
export const rbmAgentLaunchEventSchema = z.looseObject({
  agentId: rbmAgentId.optional(),
  eventId: googleId.optional(),
  botDisplayName: z.string().max(1024).optional(),
  brandId: z.string().max(1024).optional(),
  brandDisplayName: z.string().max(1024).optional(),
  regionId: z.string().max(256).optional(),
  oldLaunchState: z.string().max(64).optional(),
  newLaunchState: z.string().max(64).optional(),
  actingParty: z.string().max(64).optional(),
  comment: z.string().max(4096).optional(),
  sendTime: timestamp.optional(),
});
/** A parsed RBM agent launch event. */
export type RbmAgentLaunchEvent = z.output<typeof rbmAgentLaunchEventSchema>;

/** A parsed RBM server event. */
export type RbmServerEvent = z.output<typeof rbmServerEventSchema>;
