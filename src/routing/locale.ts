/**
 * Which language to answer and route in. Pure: runs inside the workflow sandbox.
 */
import { type Channel } from '../domain/conversation-key';
import { type InboundContext, type SenderCountry } from '../domain/inbound';
import { countryOf, senderCountryOf } from './phone-country';
import { type RoutingConfig } from './types';

/** Loose BCP-47 shape: language, then subtags; `_` accepted because some devices report `fr_FR`. */
export const LOCALE_PATTERN = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;

/**
 * Canonical BCP-47 casing (`FR_ca` → `fr-CA`, `zh-hant-tw` → `zh-Hant-TW`). Hand-written rather
 * than `Intl.getCanonicalLocales` so the result cannot change with the ICU data of a Node upgrade
 * while a workflow replays. Returns undefined for something that is not a language tag.
 */
export function canonicalizeLocale(tag: string): string | undefined {
  const trimmed = tag.trim();
  if (!LOCALE_PATTERN.test(trimmed)) return undefined;
  const parts = trimmed.split(/[-_]/);
  let inExtension = false;
  return parts
    .map((part, index) => {
      const lower = part.toLowerCase();
      if (index === 0 || inExtension) return lower;
      if (part.length === 1) {
        // A singleton (`u`, `x`, ...) starts an extension whose subtags stay lowercase.
        inExtension = true;
        return lower;
      }
      if (index === 1 && /^[A-Za-z]{4}$/.test(part)) return lower.charAt(0).toUpperCase() + lower.slice(1);
      if (/^[A-Za-z]{2}$/.test(part) || /^\d{3}$/.test(part)) return part.toUpperCase();
      return lower;
    })
    .join('-');
}

function languageOf(tag: string): string {
  return tag.split('-')[0] ?? tag;
}

/**
 * The best of `available` for `requested`: an exact match, else the requested tag with subtags
 * dropped from the end (`fr-CA` → `fr`), else any available tag of the same language (`fr` →
 * `fr-FR`, first in the given order). Both sides are compared in canonical form; the returned value
 * is the element of `available` as given.
 */
export function matchLocale(requested: string | undefined, available: readonly string[]): string | undefined {
  if (requested === undefined) return undefined;
  const wanted = canonicalizeLocale(requested);
  if (wanted === undefined) return undefined;
  const canonical = available.map((tag) => canonicalizeLocale(tag));
  const parts = wanted.split('-');
  for (let length = parts.length; length > 0; length--) {
    const prefix = parts.slice(0, length).join('-');
    const index = canonical.indexOf(prefix);
    if (index >= 0) return available[index];
  }
  const language = languageOf(wanted);
  const index = canonical.findIndex((tag) => tag !== undefined && languageOf(tag) === language);
  return index >= 0 ? available[index] : undefined;
}

/** True when `a` and `b` would be served by the same language (`en-GB` and `en-US` do). */
export function sameLanguage(a: string, b: string): boolean {
  return matchLocale(a, [b]) !== undefined;
}

/** What the locale can be derived from. */
export interface LocaleInput {
  channel: Channel;
  /** Business Messages context of the message (RBM has none). */
  context?: InboundContext;
  /** RBM: the user's E.164 number. */
  msisdn?: string;
  /** RBM: its country as the API resolved it; without it (events from before) the number is looked up here. */
  senderCountry?: SenderCountry;
  /** RBM: the agent, for a per-agent default locale. */
  agentId?: string;
  /** BM: prefer `userDeviceLocale` when its language differs from `resolvedLocale`'s (default true). */
  compareDeviceLanguage?: boolean;
}

/** Where a resolved locale came from. */
export type LocaleSource = 'resolvedLocale' | 'userDeviceLocale' | 'phoneNumber' | 'agentDefault' | 'default';

/** A resolved locale and its source. */
export interface LocaleResolution {
  /** Canonical BCP-47 tag. */
  locale: string;
  source: LocaleSource;
  /** The country derived from an RBM number, when one was. */
  country?: string;
}

/**
 * The user's locale. Business Messages: `resolvedLocale` (Google's match between the device and
 * the agent's locales), then `userDeviceLocale`; but when both are given and their languages
 * differ, `userDeviceLocale` (`compareDeviceLanguage: false` restores the older rule). RBM: the
 * number's country through `countryLocales` (country code first, then calling code), from the
 * country the API resolved or, for events from before it did, a lookup of the number. Otherwise
 * the agent's default.
 */
export function resolveLocaleDetailed(input: LocaleInput, config: RoutingConfig): LocaleResolution {
  if (input.channel === 'bm') {
    const resolved =
      input.context?.resolvedLocale !== undefined ? canonicalizeLocale(input.context.resolvedLocale) : undefined;
    const device =
      input.context?.userDeviceLocale !== undefined ? canonicalizeLocale(input.context.userDeviceLocale) : undefined;
    // resolvedLocale is Google's match against the agent's own locales: when the device speaks
    // another language, that match hides the user's language, which Google's Business Messages
    // receive-messages guide would route to an agent who speaks it, so the device wins.
    if (
      resolved !== undefined &&
      device !== undefined &&
      (input.compareDeviceLanguage ?? true) &&
      !sameLanguage(resolved, device)
    )
      return { locale: device, source: 'userDeviceLocale' };
    if (resolved !== undefined) return { locale: resolved, source: 'resolvedLocale' };
    if (device !== undefined) return { locale: device, source: 'userDeviceLocale' };
  }
  if (input.channel === 'rbm' && (input.senderCountry !== undefined || input.msisdn !== undefined)) {
    const sender = input.senderCountry ?? (input.msisdn !== undefined ? senderCountryOf(input.msisdn) : undefined);
    const callingCode = sender?.callingCode;
    const country = sender
      ? countryOf(sender, (candidate) => config.countryLocales[candidate] !== undefined)
      : undefined;
    const fromTable =
      (country !== undefined ? config.countryLocales[country] : undefined) ??
      (callingCode !== undefined ? config.countryLocales[callingCode] : undefined);
    if (fromTable !== undefined)
      return country !== undefined
        ? { locale: fromTable, source: 'phoneNumber', country }
        : { locale: fromTable, source: 'phoneNumber' };
  }
  const agentDefault = input.agentId !== undefined ? config.agents[input.agentId]?.defaultLocale : undefined;
  if (agentDefault !== undefined) return { locale: agentDefault, source: 'agentDefault' };
  return { locale: config.defaultLocale, source: 'default' };
}

/** The user's locale as a canonical BCP-47 tag; see {@link resolveLocaleDetailed} for the order. */
export function resolveLocale(input: LocaleInput, config: RoutingConfig): string {
  return resolveLocaleDetailed(input, config).locale;
}

/** The agent's default locale for a conversation (per-agent override, else the file's default). */
export function agentDefaultLocale(config: RoutingConfig, agentId?: string): string {
  return (agentId !== undefined ? config.agents[agentId]?.defaultLocale : undefined) ?? config.defaultLocale;
}

/** The template locale closest to `locale`, or undefined when automation does not speak it. */
export function automationLocale(config: RoutingConfig, locale: string): string | undefined {
  return matchLocale(locale, Object.keys(config.templates));
}
