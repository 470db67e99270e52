/**
 * Routing: pure, deterministic decisions over a validated routing file, safe to import from
 * workflow code. Loading and validating the file lives in ./load (Node only), never imported here.
 */
export type {
  AutomationConfig,
  FaqEntry,
  PlaceConfig,
  QueueConfig,
  RoutingConfig,
  TemplateKey,
  TemplateSet,
} from './types';
export {
  applyContextUpdate,
  initialRoutingContext,
  releaseToAutomation,
  withLiveAgent,
  type PlaceConfirmation,
  type RoutingContext,
  type RoutingContextUpdate,
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
export {
  agentDefaultLocale,
  automationLocale,
  canonicalizeLocale,
  matchLocale,
  resolveLocale,
  resolveLocaleDetailed,
  sameLanguage,
  type LocaleInput,
  type LocaleResolution,
  type LocaleSource,
} from './locale';
export { countryOf, countryOfNumber, senderCountryOf } from './phone-country';
export {
  handoffAcknowledgement,
  holdingMessage,
  localizedText,
  renderTemplate,
  type Recipient,
  type RecipientHint,
  type TemplateValues,
} from './templates';
export { faqByPostback, matchFaq, tokenize, type FaqMatch } from './faq';
export { nearestPlace, selectQueue, type QueueMatch, type QueueSelection } from './queues';
export {
  AGENT_REQUEST_POSTBACK,
  AUTH_RETRY_POSTBACK,
  PLACE_DECLINED_POSTBACK,
  PLACE_POSTBACK_PREFIX,
  placePostback,
} from './postbacks';
