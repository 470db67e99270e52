/**
 * Finding the user's question among the FAQ entries: by postback data (exact, no text parsing) or
 * by keywords of the user's locale. Pure: runs inside the workflow sandbox.
 */
import { matchLocale } from './locale';
import { type FaqEntry, type RoutingConfig } from './types';

/**
 * Lowercase words without accents, so "Horaires d'OUVERTURE" and "horaires d'ouverture" match the
 * same keywords. `toLowerCase` rather than `toLocaleLowerCase`: the result must not depend on the
 * worker's locale while a workflow replays.
 */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}*]+/u)
    .filter((word) => word.length > 0);
}

function wordMatches(pattern: string, word: string): boolean {
  return pattern.endsWith('*') ? word.startsWith(pattern.slice(0, -1)) : word === pattern;
}

/** Whether a keyword (one word or a phrase) occurs in the tokenized text, word for word. */
function keywordOccurs(keyword: string[], words: string[]): boolean {
  if (keyword.length === 0) return false;
  for (let start = 0; start + keyword.length <= words.length; start++) {
    if (keyword.every((pattern, offset) => wordMatches(pattern, words[start + offset] ?? ''))) return true;
  }
  return false;
}

/** The entry's keywords for `locale` (closest locale the entry has), or none. */
function keywordsFor(entry: FaqEntry, locale: string): string[] {
  const key = matchLocale(locale, Object.keys(entry.keywords));
  return key !== undefined ? (entry.keywords[key] ?? []) : [];
}

/** The FAQ entry a text matched. */
export interface FaqMatch {
  entry: FaqEntry;
  /** Matched words (a phrase counts each of its words), for tie-breaking and logs. */
  score: number;
}

/**
 * The FAQ entry whose keywords in the user's locale best match the text: most matched words
 * wins, the earlier entry in the file wins a tie. Only the user's locale is searched, so an English
 * keyword does not make automation answer a French speaker.
 */
export function matchFaq(text: string, locale: string, config: RoutingConfig): FaqMatch | undefined {
  const words = tokenize(text);
  if (words.length === 0) return undefined;
  let best: FaqMatch | undefined;
  for (const entry of config.faq) {
    let score = 0;
    for (const keyword of keywordsFor(entry, locale)) {
      const pattern = tokenize(keyword);
      if (keywordOccurs(pattern, words)) score += pattern.length;
    }
    if (score > 0 && (best === undefined || score > best.score)) best = { entry, score };
  }
  return best;
}

/** The FAQ entry a chip's postback data names, if any. */
export function faqByPostback(postbackData: string, config: RoutingConfig): FaqEntry | undefined {
  return config.faq.find((entry) => entry.postbackData === postbackData);
}

/** The entry's answer in the user's locale (closest match), or undefined when it has none. */
export function faqAnswer(entry: FaqEntry, locale: string): string | undefined {
  const key = matchLocale(locale, Object.keys(entry.answers));
  return key !== undefined ? entry.answers[key] : undefined;
}

/** The entry's chip text in the user's locale, or undefined. */
export function faqLabel(entry: FaqEntry, locale: string): string | undefined {
  const key = matchLocale(locale, Object.keys(entry.labels));
  return key !== undefined ? entry.labels[key] : undefined;
}
