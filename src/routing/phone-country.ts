/**
 * The country of an RBM user's number. The API resolves it once per message with libphonenumber-js
 * (src/channels/rbm/inbound.ts) and passes it with the event (`senderCountry`), so workflows route
 * on it without the library: its metadata (~280 KB of objects) would otherwise be evaluated again
 * in every workflow context, i.e. held by every cached conversation.
 *
 * Events recorded before the API did this have no `senderCountry`: replaying them must route as
 * they did, so workflows fall back to the same lookup. The library is then loaded on first use only
 * (a `require` inside the function: webpack bundles it, but evaluates it only when called), so a
 * workflow that never sees such an event never evaluates the metadata.
 */
import type * as LibPhoneNumber from 'libphonenumber-js/min';

import { type SenderCountry } from '../domain/inbound';

type PhoneLib = typeof LibPhoneNumber;
let lib: PhoneLib | undefined;

function phoneLib(): PhoneLib {
  // eslint-disable-next-line no-restricted-globals, @typescript-eslint/no-require-imports -- deliberately lazy (see the module comment); a bundled module, no I/O.
  lib ??= require('libphonenumber-js/min') as PhoneLib;
  return lib;
}

/**
 * The number's calling code and, via libphonenumber-js's metadata rather than hand-written
 * prefixes, its country (ISO 3166 alpha-2); for a shared calling code whose range the metadata
 * does not recognize (e.g. a +44 drama number), the countries it may belong to instead.
 * Undefined for a number the library cannot parse.
 */
export function senderCountryOf(msisdn: string): SenderCountry | undefined {
  const parsed = phoneLib().parsePhoneNumberFromString(msisdn);
  if (parsed === undefined) return undefined;
  const callingCode = `+${parsed.countryCallingCode}`;
  if (parsed.country !== undefined) return { callingCode, country: parsed.country };
  return { callingCode, possibleCountries: parsed.getPossibleCountries() };
}

/**
 * The country of an E.164 number: the one it identifies, else the first of its possible countries
 * that `known` accepts (the first one without `known`).
 */
export function countryOfNumber(
  msisdn: string,
  known?: (country: string) => boolean,
): { country?: string; callingCode?: string } {
  const sender = senderCountryOf(msisdn);
  if (sender === undefined) return {};
  const country = countryOf(sender, known);
  return country === undefined ? { callingCode: sender.callingCode } : { country, callingCode: sender.callingCode };
}

/** The country a resolved sender stands for, as countryOfNumber picks it. */
export function countryOf(sender: SenderCountry, known?: (country: string) => boolean): string | undefined {
  if (sender.country !== undefined) return sender.country;
  const candidates = sender.possibleCountries ?? [];
  return known === undefined ? candidates[0] : candidates.find(known);
}
