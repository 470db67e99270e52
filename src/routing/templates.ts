/**
 * Localized reply texts from the routing file's templates. Pure: runs inside the workflow sandbox.
 */
import { type OutboundContent, type Suggestion } from '../domain/outbound';
import { agentDefaultLocale, automationLocale, canonicalizeLocale } from './locale';
import { type RoutingConfig, type TemplateKey, type TemplateSet } from './types';

/** Names a template may use between braces. */
export const TEMPLATE_PLACEHOLDERS = ['displayName', 'placeName'] as const;
/** A placeholder name (`displayName`, `placeName`). */
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];
/** Values for a template's placeholders; missing ones are unknown. */
export type TemplateValues = Partial<Record<TemplatePlaceholder, string>>;

/** RBM's limit for one text message. */
export const MAX_TEXT = 3072;

/** RBM and Business Messages both cut suggestion chip text at 25 characters. */
export const MAX_CHIP_TEXT = 25;

const OPTIONAL_SEGMENT = /\[([^[\]]*)\]/g;
const PLACEHOLDER = /\{(\w+)\}/g;

/** Placeholder names used in a template (for validation of the file). */
export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
}

function valueOf(values: TemplateValues, name: string): string | undefined {
  const value = (values as Record<string, string | undefined>)[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Fills `{placeholders}`. A `[bracketed segment]` that holds a placeholder is kept only when all
 * its placeholders are known, so `Hi[ {displayName}]!` reads "Hi Ana!" or "Hi!" — names are often
 * missing (users may hide their identity, RBM never sends one). Brackets without a placeholder are
 * ordinary text. An unknown placeholder outside brackets becomes empty.
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  const withSegments = template.replace(OPTIONAL_SEGMENT, (whole: string, inner: string) => {
    const names = placeholdersIn(inner);
    if (names.length === 0) return whole;
    return names.every((name) => valueOf(values, name) !== undefined) ? inner : '';
  });
  return withSegments
    .replace(PLACEHOLDER, (_whole, name: string) => valueOf(values, name) ?? '')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Shortens chip text to the platforms' limit, marking the cut. */
function chipText(text: string): string {
  const chars = [...text];
  return chars.length <= MAX_CHIP_TEXT
    ? text
    : `${chars
        .slice(0, MAX_CHIP_TEXT - 1)
        .join('')
        .trimEnd()}…`;
}

/**
 * The template set to answer `locale` in: automation's closest locale, else the agent's default
 * (whose templates the loader guarantees), so a user in an unsupported language still gets an
 * acknowledgement.
 */
export function templatesFor(
  config: RoutingConfig,
  locale: string,
  agentId?: string,
): { locale: string; set: TemplateSet } {
  const candidates = [
    automationLocale(config, locale),
    automationLocale(config, agentDefaultLocale(config, agentId)),
    automationLocale(config, config.defaultLocale),
  ];
  for (const candidate of candidates) {
    const set = candidate !== undefined ? config.templates[candidate] : undefined;
    if (candidate !== undefined && set !== undefined) return { locale: candidate, set };
  }
  // Unreachable for a validated file: the default locale's templates are required.
  throw new Error(`routing file has no templates for ${config.defaultLocale}`);
}

/** One template rendered for a user. */
export function localizedText(
  config: RoutingConfig,
  key: TemplateKey,
  who: { locale: string; displayName?: string; agentId?: string },
  extra: TemplateValues = {},
): string {
  const { set } = templatesFor(config, who.locale, who.agentId);
  return renderTemplate(set[key], { displayName: who.displayName, ...extra });
}

/** A reply chip. */
export function replyChip(text: string, postbackData: string): Suggestion {
  return { kind: 'reply', text: chipText(text), postbackData };
}

/** Who a message is for: the conversation's locale and, when known, the user's name. */
export interface Recipient {
  locale: string;
  displayName?: string;
  /** RBM agent, for its own default locale. */
  agentId?: string;
}

/**
 * What the workflow knows about the user when it needs a message outside a routing decision. A
 * RoutingContext fits as is; without a locale, the agent's default is used.
 */
export interface RecipientHint {
  locale?: string;
  displayName?: string;
  agentId?: string;
}

function recipientOf(hint: RecipientHint, config: RoutingConfig): Recipient {
  const locale =
    (hint.locale !== undefined ? canonicalizeLocale(hint.locale) : undefined) ??
    agentDefaultLocale(config, hint.agentId);
  return {
    locale,
    ...(hint.displayName !== undefined ? { displayName: hint.displayName } : {}),
    ...(hint.agentId !== undefined ? { agentId: hint.agentId } : {}),
  };
}

/**
 * The holding message the workflow sends when no human joined within the SLA, in the user's
 * language (or the agent's default when automation does not speak it).
 */
export function holdingMessage(recipient: RecipientHint, config: RoutingConfig): OutboundContent {
  return { text: localizedText(config, 'holding', recipientOf(recipient, config)) };
}

/**
 * The acknowledgement sent when the conversation goes to a human queue; names the place when
 * `placeId` is one the file knows.
 */
export function handoffAcknowledgement(
  recipient: RecipientHint,
  config: RoutingConfig,
  placeId?: string,
): OutboundContent {
  const placeName = placeId !== undefined ? config.places[placeId]?.name : undefined;
  return { text: localizedText(config, 'handoff', recipientOf(recipient, config), { placeName }) };
}
