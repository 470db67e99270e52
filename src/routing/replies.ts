/**
 * The replies routing decisions carry, built from the routing file's templates. Pure.
 */
import { type OutboundContent, type Suggestion } from '../domain/outbound';
import { faqAnswer, faqLabel } from './faq';
import { AGENT_REQUEST_POSTBACK, AUTH_RETRY_POSTBACK, PLACE_DECLINED_POSTBACK, placePostback } from './postbacks';
import { MAX_TEXT, type Recipient, renderTemplate, replyChip, templatesFor } from './templates';
import { type FaqEntry, type RoutingConfig } from './types';

/** Automation's reply, opened with the greeting when it is the conversation's first. */
function automated(
  config: RoutingConfig,
  recipient: Recipient,
  isNew: boolean,
  body: string,
  suggestions?: Suggestion[],
): OutboundContent {
  const { set } = templatesFor(config, recipient.locale, recipient.agentId);
  const greeted = `${renderTemplate(set.greeting, recipient)}\n${body}`;
  // The greeting is a courtesy: drop it rather than exceed the channel's text limit.
  const text = isNew && greeted.length <= MAX_TEXT ? greeted : body;
  return suggestions !== undefined && suggestions.length > 0 ? { text, suggestions } : { text };
}

/** The FAQ answer in the user's locale; undefined when the entry has none in that locale. */
export function faqReply(
  config: RoutingConfig,
  recipient: Recipient,
  isNew: boolean,
  entry: FaqEntry,
): OutboundContent | undefined {
  const answer = faqAnswer(entry, recipient.locale);
  return answer === undefined ? undefined : automated(config, recipient, isNew, renderTemplate(answer, recipient));
}

/**
 * "Didn't understand" with chips for topics automation can answer in this locale (Google's Business
 * Messages receive-messages guide: invite the user to rephrase or pick something) and one to reach
 * a person.
 */
export function retryReply(config: RoutingConfig, recipient: Recipient, isNew: boolean): OutboundContent {
  const { set } = templatesFor(config, recipient.locale, recipient.agentId);
  const topics: Suggestion[] = [];
  for (const entry of config.faq) {
    if (topics.length >= config.automation.retrySuggestions) break;
    const label = faqLabel(entry, recipient.locale);
    if (label !== undefined && !entry.handoff && faqAnswer(entry, recipient.locale) !== undefined)
      topics.push(replyChip(label, entry.postbackData));
  }
  const chips = [...topics, replyChip(set.chips.talkToAgent, AGENT_REQUEST_POSTBACK)];
  return automated(config, recipient, isNew, renderTemplate(set.didNotUnderstand, recipient), chips);
}

/** "Are you asking about {placeName}?" with "yes" (postback `place:<id>`) and "another place" chips. */
export function confirmPlaceReply(
  config: RoutingConfig,
  recipient: Recipient,
  isNew: boolean,
  placeId: string,
): OutboundContent {
  const { set } = templatesFor(config, recipient.locale, recipient.agentId);
  const placeName = config.places[placeId]?.name;
  const body = renderTemplate(set.confirmPlace, { ...recipient, placeName });
  return automated(config, recipient, isNew, body, [
    replyChip(set.chips.yes, placePostback(placeId)),
    replyChip(set.chips.otherPlace, PLACE_DECLINED_POSTBACK),
  ]);
}

/** Sign-in result: success, or the localized failure with a chip to try again (and one for a person). */
export function authReply(config: RoutingConfig, recipient: Recipient, succeeded: boolean): OutboundContent {
  const { set } = templatesFor(config, recipient.locale, recipient.agentId);
  if (succeeded) return { text: renderTemplate(set.authSuccess, recipient) };
  return {
    text: renderTemplate(set.authFailure, recipient),
    suggestions: [
      replyChip(set.chips.tryAgain, AUTH_RETRY_POSTBACK),
      replyChip(set.chips.talkToAgent, AGENT_REQUEST_POSTBACK),
    ],
  };
}

/** The image/file acknowledgement sent with a handoff. */
export function attachmentReply(config: RoutingConfig, recipient: Recipient): OutboundContent {
  const { set } = templatesFor(config, recipient.locale, recipient.agentId);
  return { text: renderTemplate(set.attachmentReceived, recipient) };
}
