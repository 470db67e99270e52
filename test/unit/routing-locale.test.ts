import path from 'node:path';

import { type InboundEvent } from '../../src/domain/inbound';
import {
  canonicalizeLocale,
  countryOfNumber,
  matchLocale,
  resolveLocale,
  resolveLocaleDetailed,
  type RoutingConfig,
  senderCountryOf,
} from '../../src/routing';
import { decideRoute, initialRoutingContext } from '../../src/routing';
import { loadRoutingConfig } from '../../src/routing/load';
import { startingLocale } from '../../src/routing/starting-locale';

const config: RoutingConfig = loadRoutingConfig(path.join(__dirname, '..', '..', 'config', 'routing.example.yaml'));

describe('locale resolution (seed 004: « acheminez les messages et rédigez des réponses en fonction des préférences linguistiques »)', () => {
  test('Business Messages: resolvedLocale wins over a userDeviceLocale of the same language; the device wins when its language differs (issue 11 #12); the device is used when resolvedLocale is missing', () => {
    expect(
      resolveLocaleDetailed({ channel: 'bm', context: { resolvedLocale: 'es', userDeviceLocale: 'es-ES' } }, config),
    ).toEqual({ locale: 'es', source: 'resolvedLocale' });
    expect(
      resolveLocaleDetailed({ channel: 'bm', context: { resolvedLocale: 'fr', userDeviceLocale: 'es-ES' } }, config),
    ).toEqual({ locale: 'es-ES', source: 'userDeviceLocale' });
    expect(
      resolveLocaleDetailed(
        { channel: 'bm', context: { resolvedLocale: 'fr', userDeviceLocale: 'es-ES' }, compareDeviceLanguage: false },
        config,
      ),
    ).toEqual({ locale: 'fr', source: 'resolvedLocale' });
    expect(resolveLocaleDetailed({ channel: 'bm', context: { userDeviceLocale: 'es_es' } }, config)).toEqual({
      locale: 'es-ES',
      source: 'userDeviceLocale',
    });
    // A malformed tag is skipped rather than trusted.
    expect(
      resolveLocaleDetailed(
        { channel: 'bm', context: { resolvedLocale: 'not a locale', userDeviceLocale: 'fr-CA' } },
        config,
      ),
    ).toEqual({ locale: 'fr-CA', source: 'userDeviceLocale' });
    expect(resolveLocaleDetailed({ channel: 'bm', context: {} }, config)).toEqual({ locale: 'en', source: 'default' });
  });

  test("RBM has no locale: the number's country (libphonenumber-js) goes through countryLocales", () => {
    expect(resolveLocaleDetailed({ channel: 'rbm', msisdn: '+33612345678' }, config)).toEqual({
      locale: 'fr',
      source: 'phoneNumber',
      country: 'FR',
    });
    expect(resolveLocale({ channel: 'rbm', msisdn: '+34612345678' }, config)).toBe('es');
    // +1 is shared: the area code tells Canada (514, Montréal) from the US.
    expect(resolveLocaleDetailed({ channel: 'rbm', msisdn: '+15145550100' }, config)).toMatchObject({
      country: 'CA',
      locale: 'en',
    });
    const quebec: RoutingConfig = { ...config, countryLocales: { ...config.countryLocales, CA: 'fr-CA' } };
    expect(resolveLocale({ channel: 'rbm', msisdn: '+15145550100' }, quebec)).toBe('fr-CA');
    expect(resolveLocale({ channel: 'rbm', msisdn: '+14155550100' }, quebec)).toBe('en');
  });

  test("RBM: an unknown country, or no number, falls back to the agent's default, then the file's default", () => {
    expect(resolveLocaleDetailed({ channel: 'rbm', msisdn: '+4915112345678' }, config)).toEqual({
      locale: 'en',
      source: 'default',
    });
    expect(
      resolveLocaleDetailed(
        { channel: 'rbm', msisdn: '+4915112345678', agentId: 'switchboard-dev-fr@rbm.goog' },
        config,
      ),
    ).toEqual({ locale: 'fr', source: 'agentDefault' });
    expect(resolveLocaleDetailed({ channel: 'rbm' }, config)).toEqual({ locale: 'en', source: 'default' });
    expect(resolveLocaleDetailed({ channel: 'rbm', msisdn: 'garbage' }, config)).toEqual({
      locale: 'en',
      source: 'default',
    });
  });

  test("a number the metadata cannot place in one country uses the table's candidate, then the calling code", () => {
    // 07700 900xxx is Ofcom's drama range: valid for no country, possible for GB, GG, IM, JE.
    expect(countryOfNumber('+447700900123')).toEqual({ country: 'GB', callingCode: '+44' });
    expect(countryOfNumber('+447700900123', (c) => c === 'JE')).toEqual({ country: 'JE', callingCode: '+44' });
    const byCallingCode: RoutingConfig = { ...config, countryLocales: { '+44': 'en-GB' } };
    expect(resolveLocaleDetailed({ channel: 'rbm', msisdn: '+447700900123' }, byCallingCode)).toEqual({
      locale: 'en-GB',
      source: 'phoneNumber',
    });
  });

  test('the country the API resolved (senderCountry) is what routing uses; the number is looked up only for events without it', () => {
    expect(senderCountryOf('+33612345678')).toEqual({ callingCode: '+33', country: 'FR' });
    expect(senderCountryOf('+447700900123')).toEqual({
      callingCode: '+44',
      possibleCountries: ['GB', 'GG', 'IM', 'JE'],
    });
    expect(senderCountryOf('garbage')).toBeUndefined();
    // The event's country wins over the number: a French number the API placed in Spain routes in Spanish.
    expect(
      resolveLocaleDetailed(
        { channel: 'rbm', msisdn: '+33612345678', senderCountry: { callingCode: '+34', country: 'ES' } },
        config,
      ),
    ).toEqual({ locale: 'es', source: 'phoneNumber', country: 'ES' });
    // A shared range picks the table's candidate, as the lookup does.
    const jersey: RoutingConfig = { ...config, countryLocales: { JE: 'en-JE' } };
    expect(
      resolveLocaleDetailed(
        { channel: 'rbm', msisdn: '+447700900123', senderCountry: senderCountryOf('+447700900123') },
        jersey,
      ),
    ).toEqual(resolveLocaleDetailed({ channel: 'rbm', msisdn: '+447700900123' }, jersey));
    expect(
      resolveLocaleDetailed(
        { channel: 'rbm', senderCountry: { callingCode: '+44', possibleCountries: ['GB', 'JE'] } },
        jersey,
      ),
    ).toEqual({ locale: 'en-JE', source: 'phoneNumber', country: 'JE' });
  });

  test('BCP-47 casing is normalized', () => {
    expect(canonicalizeLocale('FR_ca')).toBe('fr-CA');
    expect(canonicalizeLocale('zh-hant-tw')).toBe('zh-Hant-TW');
    expect(canonicalizeLocale('es-419')).toBe('es-419');
    expect(canonicalizeLocale('en-US-u-ca-GREGORY')).toBe('en-US-u-ca-gregory');
    expect(canonicalizeLocale('français')).toBeUndefined();
  });

  test('"fr-CA" matches a "fr" queue or template when there is no exact match; an exact match wins', () => {
    expect(matchLocale('fr-CA', ['en', 'fr'])).toBe('fr');
    expect(matchLocale('fr-CA', ['fr', 'fr-CA'])).toBe('fr-CA');
    expect(matchLocale('fr', ['en', 'fr-FR'])).toBe('fr-FR');
    expect(matchLocale('zh-Hant-TW', ['zh-Hans', 'zh-Hant'])).toBe('zh-Hant');
    expect(matchLocale('de', ['en', 'fr'])).toBeUndefined();
    expect(matchLocale(undefined, ['en'])).toBeUndefined();
  });

  test("the locale the API gives a new conversation's start is the one its first routing decision takes", () => {
    const at = '2026-12-03T12:00:00.000Z';
    const bmMessage: InboundEvent = {
      type: 'message',
      channel: 'bm',
      conversationKey: 'bm:c-1',
      dedupeKey: 'm1',
      messageId: 'm1',
      content: { kind: 'text', text: 'hola' },
      context: { resolvedLocale: 'fr', userDeviceLocale: 'es-ES' },
      receivedAt: at,
    };
    const rbmMessage: InboundEvent = {
      type: 'message',
      channel: 'rbm',
      conversationKey: 'rbm:agent@rbm.goog:+34612345678',
      dedupeKey: 'm2',
      messageId: 'm2',
      content: { kind: 'text', text: 'hola' },
      receivedAt: at,
    };
    for (const event of [bmMessage, rbmMessage]) {
      const decided = decideRoute(
        {
          event: event as Extract<InboundEvent, { type: 'message' }>,
          context: initialRoutingContext(),
          compareDeviceLanguage: true,
        },
        config,
      ).locale;
      expect(startingLocale(event.conversationKey, [event], config)).toBe(decided);
    }
    expect(startingLocale('bm:c-1', [bmMessage], config)).toBe('es-ES');
    // RBM: the number says it before any message; Business Messages: only a message does.
    expect(
      startingLocale(
        'rbm:agent@rbm.goog:+33612345678',
        [
          {
            type: 'typing',
            channel: 'rbm',
            conversationKey: 'rbm:agent@rbm.goog:+33612345678',
            dedupeKey: 't',
            isTyping: true,
            receivedAt: at,
          },
        ],
        config,
      ),
    ).toBe('fr');
    expect(
      startingLocale(
        'bm:c-1',
        [{ type: 'typing', channel: 'bm', conversationKey: 'bm:c-1', dedupeKey: 't', isTyping: true, receivedAt: at }],
        config,
      ),
    ).toBeUndefined();
  });
});
