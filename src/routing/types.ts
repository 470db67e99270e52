/**
 * The validated routing file, as the pure routing functions see it. Plain JSON data only (no Maps,
 * RegExps or classes) because the workflow receives it as input and Temporal serializes it.
 * Every locale tag here is already canonical BCP-47 casing (`fr-CA`, `zh-Hant-TW`).
 */
export interface RoutingConfig {
  /** The agent's default locale: used when nothing better is known, and its templates must exist. */
  defaultLocale: string;
  /** Per-agent default locale (RBM agent ID from the conversation key), overriding `defaultLocale`. */
  agents: Record<string, { defaultLocale: string }>;
  /**
   * RBM has no locale: the user's number gives a country (ISO 3166 alpha-2, e.g. `FR`) that this
   * table maps to a locale. Keys may also be calling codes (`+44`), used when the number's country
   * cannot be told apart (shared codes such as +1 or +44 with an unrecognized range).
   */
  countryLocales: Record<string, string>;
  /** Human queues, in file order; exactly one is the default. */
  queues: QueueConfig[];
  /** Places (Google Place IDs) the agent knows by name, for confirmation chips and place queues. */
  places: Record<string, PlaceConfig>;
  automation: AutomationConfig;
  /** Questions automation can answer, in file order (earlier wins a tie). */
  faq: FaqEntry[];
  /** Reply texts per locale. The locales listed here are the ones automation speaks. */
  templates: Record<string, TemplateSet>;
}

/** A human queue (`queues[]`). */
export interface QueueConfig {
  id: string;
  /** Locales its agents can answer in; `fr` also serves `fr-CA`. */
  locales: string[];
  /** When non-empty, a place queue: it receives only conversations about these places. */
  placeIds: string[];
  /** The catch-all queue when no other queue fits. */
  default: boolean;
}

/** A place (`places.<placeId>`). */
export interface PlaceConfig {
  name: string;
  /** Lets a shared location (RBM) be matched to the nearest place. */
  location?: { latitude: number; longitude: number };
}

/** How hard automation tries before a human takes over (`automation`). */
export interface AutomationConfig {
  /** After this many consecutive messages automation could not answer, it stops asking again and hands off. */
  maxFailedAttempts: number;
  /** How many FAQ topic chips the "didn't understand" prompt offers (besides "talk to a person"). */
  retrySuggestions: number;
  /** A shared location farther than this from every place is not matched to a place. */
  nearestPlaceMaxKm: number;
}

/** A question automation can recognize (`faq[]`). */
export interface FaqEntry {
  id: string;
  /** Postback data of the chip that asks this question; defaults to `faq:<id>`. */
  postbackData: string;
  /** Chip text per locale, offered in the "didn't understand" prompt. */
  labels: Record<string, string>;
  /** Words or phrases per locale; `open*` matches every word starting with `open`. */
  keywords: Record<string, string[]>;
  /** Answer per locale; a locale without an answer goes to a human who speaks it. */
  answers: Record<string, string>;
  /** The question is a request for a human: matching it hands off instead of answering. */
  handoff: boolean;
}

/**
 * Reply texts for one locale. Placeholders: `{displayName}`, `{placeName}`. A bracketed segment
 * holding a placeholder, e.g. `Hi[ {displayName}]!`, disappears when the value is unknown.
 */
export interface TemplateSet {
  /** Prefixed to automation's first reply in a new conversation. */
  greeting: string;
  /** Automation could not answer and still has tries left. */
  didNotUnderstand: string;
  /** The conversation goes to a human queue. `{placeName}` is known for place queues. */
  handoff: string;
  /** No human joined within the SLA. */
  holding: string;
  /** An image or file automation cannot use; a human takes over. */
  attachmentReceived: string;
  /** Asks whether the user means `{placeName}` (nearPlaceId or shared location). */
  confirmPlace: string;
  authSuccess: string;
  /** Sign-in failed; sent with a "try again" chip. */
  authFailure: string;
  /** Chip texts (25 characters at most, the RBM and Business Messages limit). */
  chips: { yes: string; otherPlace: string; tryAgain: string; talkToAgent: string };
}

/** The name of a text template (everything but the chips). */
export type TemplateKey = Exclude<keyof TemplateSet, 'chips'>;
