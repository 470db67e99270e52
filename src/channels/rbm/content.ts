import { FailureType } from '../../domain/errors';
import { type OutboundContent } from '../../domain/outbound';
import { permanentFailure } from '../failures';
import { type GoogleSuggestion, toGoogleSuggestions } from '../suggestions';

/** `AgentContentMessage`, the parts Switchboard sends (rich cards pass through unchanged). */
export interface RbmContentMessage {
  text?: string;
  richCard?: Record<string, unknown>;
  suggestions?: GoogleSuggestion[];
}

/** `AgentMessage` request body. `ttl` and `expireTime` are mutually exclusive. */
export interface RbmAgentMessage {
  contentMessage: RbmContentMessage;
  messageTrafficType?: string;
  ttl?: string;
  expireTime?: string;
}

const TTL = /^\d+(\.\d{1,9})?s$/;

/** Builds the RBM body from channel-neutral content; a request RBM would refuse fails here, permanently. */
export function toRbmAgentMessage(input: {
  content: OutboundContent;
  ttl?: string;
  expireTime?: string;
  messageTrafficType?: string;
}): RbmAgentMessage {
  const { content } = input;
  if (content.text === undefined && content.richCard === undefined)
    throw permanentFailure('an RBM message needs text or a rich card', FailureType.InvalidRequest);
  if (content.text !== undefined && content.richCard !== undefined)
    throw permanentFailure('an RBM message carries either text or a rich card, not both', FailureType.InvalidRequest);
  if (input.ttl !== undefined && input.expireTime !== undefined)
    throw permanentFailure('ttl and expireTime are mutually exclusive', FailureType.InvalidRequest);
  if (input.ttl !== undefined && !TTL.test(input.ttl))
    throw permanentFailure(
      `ttl must be a duration in seconds such as "86400s", got ${JSON.stringify(input.ttl)}`,
      FailureType.InvalidRequest,
    );
  if (input.expireTime !== undefined && Number.isNaN(Date.parse(input.expireTime)))
    throw permanentFailure('expireTime must be an RFC 3339 timestamp', FailureType.InvalidRequest);

  const suggestions = toGoogleSuggestions(content.suggestions);
  return {
    contentMessage: {
      ...(content.text !== undefined ? { text: content.text } : {}),
      ...(content.richCard !== undefined ? { richCard: content.richCard } : {}),
      ...(suggestions ? { suggestions } : {}),
    },
    ...(input.messageTrafficType ? { messageTrafficType: input.messageTrafficType } : {}),
    ...(input.ttl !== undefined ? { ttl: input.ttl } : {}),
    ...(input.expireTime !== undefined ? { expireTime: input.expireTime } : {}),
  };
}
