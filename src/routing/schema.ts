/**
 * The routing file's schema. Pure (zod only) so it could run anywhere, but only ./load imports it:
 * the workflow receives an already validated RoutingConfig and keeps zod out of its bundle.
 */
import { z } from 'zod';

import { canonicalizeLocale, LOCALE_PATTERN } from './locale';
import { PLACE_DECLINED_POSTBACK, PLACE_POSTBACK_PREFIX, RESERVED_POSTBACK_PREFIXES } from './postbacks';
import { MAX_CHIP_TEXT, MAX_TEXT, placeholdersIn, TEMPLATE_PLACEHOLDERS } from './templates';
import { type FaqEntry, type QueueConfig, type RoutingConfig, type TemplateSet } from './types';

/** Both platforms cap postback data at 2048 characters. */
const MAX_POSTBACK = 2048;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const localeTag = z.string().regex(LOCALE_PATTERN, 'expected a BCP-47 language tag such as "en" or "fr-CA"');

/** Text sent to users: bounded, and only placeholders routing can fill (a typo would be sent verbatim). */
const messageText = z
  .string()
  .min(1)
  .max(MAX_TEXT)
  .superRefine((text, ctx) => {
    for (const name of placeholdersIn(text)) {
      if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {${name}}; use ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(' or ')}`,
        });
      }
    }
  });

const chip = z.string().min(1).max(MAX_CHIP_TEXT, `chip text is limited to ${MAX_CHIP_TEXT} characters`);

const templateSetSchema = z.strictObject({
  greeting: messageText,
  didNotUnderstand: messageText,
  handoff: messageText,
  holding: messageText,
  attachmentReceived: messageText,
  confirmPlace: messageText,
  authSuccess: messageText,
  authFailure: messageText,
  chips: z.strictObject({ yes: chip, otherPlace: chip, tryAgain: chip, talkToAgent: chip }),
});

const queueSchema = z.strictObject({
  id: z.string().regex(ID_PATTERN, 'expected letters, digits, ".", "_" or "-"'),
  locales: z.array(localeTag).min(1, 'a queue serves at least one locale'),
  placeIds: z.array(z.string().min(1)).default([]),
  default: z.boolean().default(false),
});

const placeSchema = z.strictObject({
  name: z.string().min(1),
  location: z
    .strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
    .optional(),
});

const faqSchema = z.strictObject({
  id: z.string().regex(ID_PATTERN, 'expected letters, digits, ".", "_" or "-"'),
  postbackData: z.string().min(1).max(MAX_POSTBACK).optional(),
  labels: z.record(localeTag, chip).default({}),
  keywords: z.record(localeTag, z.array(z.string().trim().min(1))).default({}),
  answers: z.record(localeTag, messageText).default({}),
  handoff: z.boolean().default(false),
});

const automationSchema = z.strictObject({
  maxFailedAttempts: z.int().min(1).max(20).default(2),
  retrySuggestions: z.int().min(0).max(10).default(3),
  nearestPlaceMaxKm: z.number().positive().default(25),
});

const countryKey = z
  .string()
  .regex(
    /^(?:[A-Za-z]{2}|\+[1-9]\d{0,2})$/,
    'expected an ISO country code such as "FR" or a calling code such as "+33"',
  );

const rawSchema = z.strictObject({
  /** Format version, so a later format can be told apart. */
  version: z.literal(1).optional(),
  defaultLocale: localeTag,
  agents: z.record(z.string().min(1), z.strictObject({ defaultLocale: localeTag })).default({}),
  countryLocales: z.record(countryKey, localeTag).default({}),
  queues: z.array(queueSchema).min(1, 'at least one queue is needed'),
  places: z.record(z.string().min(1), placeSchema).default({}),
  automation: automationSchema.prefault({}),
  faq: z.array(faqSchema).default([]),
  templates: z.record(localeTag, templateSetSchema),
});

type RawConfig = z.output<typeof rawSchema>;
type Issue = { path: (string | number)[]; message: string };

/** Two keys of one locale-keyed map that name the same locale (`fr` and `FR`). */
function duplicateLocaleKeys(record: Record<string, unknown>, path: (string | number)[], issues: Issue[]): void {
  const seen = new Map<string, string>();
  for (const key of Object.keys(record)) {
    const canonical = canonicalizeLocale(key) ?? key;
    const earlier = seen.get(canonical);
    if (earlier !== undefined) issues.push({ path: [...path, key], message: `same locale as "${earlier}"` });
    else seen.set(canonical, key);
  }
}

/** Cross-references a field-by-field schema cannot see. */
function crossCheck(raw: RawConfig): Issue[] {
  const issues: Issue[] = [];
  const defaults = raw.queues.flatMap((queue, index) => (queue.default ? [index] : []));
  if (defaults.length === 0) issues.push({ path: ['queues'], message: 'exactly one queue needs "default: true"' });
  for (const index of defaults.slice(1))
    issues.push({
      path: ['queues', index, 'default'],
      message: `only one default queue allowed (queues[${defaults[0]}] is already)`,
    });

  const queueIds = new Set<string>();
  raw.queues.forEach((queue, index) => {
    if (queueIds.has(queue.id))
      issues.push({ path: ['queues', index, 'id'], message: `duplicate queue id "${queue.id}"` });
    queueIds.add(queue.id);
    queue.placeIds.forEach((placeId, placeIndex) => {
      if (raw.places[placeId] === undefined)
        issues.push({
          path: ['queues', index, 'placeIds', placeIndex],
          message: `unknown place "${placeId}" (not under places)`,
        });
    });
  });

  for (const placeId of Object.keys(raw.places)) {
    if (`${PLACE_POSTBACK_PREFIX}${placeId}` === PLACE_DECLINED_POSTBACK)
      issues.push({ path: ['places', placeId], message: `"${placeId}" is reserved` });
  }

  const templateLocales = Object.keys(raw.templates).map((key) => canonicalizeLocale(key) ?? key);
  const needsTemplates: [string, (string | number)[]][] = [
    [raw.defaultLocale, ['defaultLocale']],
    ...Object.entries(raw.agents).map(([agent, value]): [string, (string | number)[]] => [
      value.defaultLocale,
      ['agents', agent, 'defaultLocale'],
    ]),
  ];
  for (const [locale, path] of needsTemplates) {
    // Exact (not language) match: replies in the agent's default language must not depend on a guess.
    if (!templateLocales.includes(canonicalizeLocale(locale) ?? locale))
      issues.push({ path, message: `no templates for "${locale}" (add templates.${locale})` });
  }
  duplicateLocaleKeys(raw.templates, ['templates'], issues);

  const faqIds = new Set<string>();
  const postbacks = new Set<string>();
  raw.faq.forEach((entry, index) => {
    if (faqIds.has(entry.id)) issues.push({ path: ['faq', index, 'id'], message: `duplicate FAQ id "${entry.id}"` });
    faqIds.add(entry.id);
    const postback = entry.postbackData ?? `faq:${entry.id}`;
    const where = entry.postbackData !== undefined ? ['faq', index, 'postbackData'] : ['faq', index, 'id'];
    if (postbacks.has(postback))
      issues.push({ path: where, message: `postbackData "${postback}" is used by another FAQ entry` });
    postbacks.add(postback);
    const reserved = RESERVED_POSTBACK_PREFIXES.find((prefix) => postback.startsWith(prefix));
    if (reserved !== undefined)
      issues.push({
        path: where,
        message: `postbackData may not start with "${reserved}" (reserved for routing's own chips)`,
      });
    if (!entry.handoff && Object.keys(entry.answers).length === 0)
      issues.push({ path: ['faq', index], message: 'needs answers in at least one locale (or "handoff: true")' });
    if (
      Object.keys(entry.keywords).length === 0 &&
      entry.postbackData === undefined &&
      Object.keys(entry.labels).length === 0
    ) {
      issues.push({ path: ['faq', index], message: 'unreachable: give it keywords, labels or postbackData' });
    }
    duplicateLocaleKeys(entry.keywords, ['faq', index, 'keywords'], issues);
    duplicateLocaleKeys(entry.answers, ['faq', index, 'answers'], issues);
    duplicateLocaleKeys(entry.labels, ['faq', index, 'labels'], issues);
  });
  return issues;
}

function canonicalKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [canonicalizeLocale(key) ?? key, value]));
}

function locale(tag: string): string {
  return canonicalizeLocale(tag) ?? tag;
}

/** The validated file with locale tags in canonical casing and defaults filled in. */
function normalize(raw: RawConfig): RoutingConfig {
  const queues: QueueConfig[] = raw.queues.map((queue) => ({
    id: queue.id,
    locales: queue.locales.map(locale),
    placeIds: queue.placeIds,
    default: queue.default,
  }));
  const faq: FaqEntry[] = raw.faq.map((entry) => ({
    id: entry.id,
    postbackData: entry.postbackData ?? `faq:${entry.id}`,
    labels: canonicalKeys(entry.labels),
    keywords: canonicalKeys(entry.keywords),
    answers: canonicalKeys(entry.answers),
    handoff: entry.handoff,
  }));
  const templates: Record<string, TemplateSet> = canonicalKeys(raw.templates);
  return {
    defaultLocale: locale(raw.defaultLocale),
    agents: Object.fromEntries(
      Object.entries(raw.agents).map(([agent, value]) => [agent, { defaultLocale: locale(value.defaultLocale) }]),
    ),
    countryLocales: Object.fromEntries(
      Object.entries(raw.countryLocales).map(([key, value]) => [key.toUpperCase(), locale(value)]),
    ),
    queues,
    places: raw.places,
    automation: raw.automation,
    faq,
    templates,
  };
}

/**
 * The routing file: field types first, then cross-references (one default queue, known places,
 * templates for the default locale, unique FAQ ids and postbacks), then canonical locale casing.
 * Issue paths point into the file as written, so the loader can name the line.
 */
export const routingConfigSchema = rawSchema
  .superRefine((raw, ctx) => {
    for (const issue of crossCheck(raw)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  })
  .transform(normalize);
