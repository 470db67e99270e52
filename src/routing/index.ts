/**
 * Routing: pure, deterministic decisions over a validated routing file, safe to import from
 * workflow code. Loading and validating the file lives in ./load (Node only), never imported here.
 */
export {
  applyContextUpdate,
  initialRoutingContext,
  type PlaceConfirmation,
  releaseToAutomation,
  type RoutingContext,
  type RoutingContextUpdate,
  withLiveAgent,
} from './context';
export { decideLiveAgentRequest, decideRoute } from './decide';
export type {
  AuthRetryDecision,
  AutomationReplyDecision,
  ConfirmPlaceDecision,
  HandoffDecision,
  HandoffReason,
  InboundMessageEvent,
  LiveAgentDecision,
  NoReplyDecision,
  QueuedDecision,
  RetryPromptDecision,
  RouteAction,
  RouteDecision,
  RouteInput,
} from './decisions';
export { faqByPostback, type FaqMatch, matchFaq, tokenize } from './faq';
export {
  agentDefaultLocale,
  automationLocale,
  canonicalizeLocale,
  type LocaleInput,
  type LocaleResolution,
  type LocaleSource,
  matchLocale,
  resolveLocale,
  resolveLocaleDetailed,
  sameLanguage,
} from './locale';
export { countryOf, countryOfNumber, senderCountryOf } from './phone-country';
export {
  AGENT_REQUEST_POSTBACK,
  AUTH_RETRY_POSTBACK,
  PLACE_DECLINED_POSTBACK,
  PLACE_POSTBACK_PREFIX,
  placePostback,
} from './postbacks';
export { nearestPlace, type QueueMatch, type QueueSelection, selectQueue } from './queues';
export {
  handoffAcknowledgement,
  holdingMessage,
  localizedText,
  type Recipient,
  type RecipientHint,
  renderTemplate,
  type TemplateValues,
} from './templates';
export type {
  AutomationConfig,
  FaqEntry,
  PlaceConfig,
  QueueConfig,
  RoutingConfig,
  TemplateKey,
  TemplateSet,
} from './types';
