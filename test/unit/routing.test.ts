/**
 * One test per routing rule of seed 004 ("Acheminer le message en fonction de son contexte" and
 * the message-type sections), run against the shipped example routing file.
 */
import path from 'node:path';

import { type DialogflowInfo, type InboundContext, type MessageContent } from '../../src/domain/inbound';
import {
  AGENT_REQUEST_POSTBACK,
  applyContextUpdate,
  AUTH_RETRY_POSTBACK,
  decideLiveAgentRequest,
  decideRoute,
  handoffAcknowledgement,
  holdingMessage,
  type InboundMessageEvent,
  initialRoutingContext,
  PLACE_DECLINED_POSTBACK,
  placePostback,
  releaseToAutomation,
  type RouteDecision,
  type RoutingConfig,
  type RoutingContext,
  withLiveAgent,
} from '../../src/routing';
import { loadRoutingConfig } from '../../src/routing/load';

const config: RoutingConfig = loadRoutingConfig(path.join(__dirname, '..', '..', 'config', 'routing.example.yaml'));
const PARIS = 'ChIJswitchboardParisOpera01';

let counter = 0;
function bm(
  content: MessageContent,
  context: InboundContext = { resolvedLocale: 'en' },
  dialogflow?: DialogflowInfo,
): InboundMessageEvent {
  counter += 1;
  return {
    type: 'message',
    channel: 'bm',
    conversationKey: 'bm:conversation-1',
    dedupeKey: `req-${counter}`,
    messageId: `msg-${counter}`,
    receivedAt: '2025-03-01T10:00:00Z',
    content,
    context,
    ...(dialogflow !== undefined ? { dialogflow } : {}),
  };
}

function rbm(content: MessageContent, msisdn = '+33612345678'): InboundMessageEvent {
  counter += 1;
  return {
    type: 'message',
    channel: 'rbm',
    conversationKey: `rbm:switchboard-dev@rbm.goog:${msisdn}`,
    dedupeKey: `m-${counter}`,
    messageId: `m-${counter}`,
    receivedAt: '2025-03-01T10:00:00Z',
    content,
  };
}

const text = (value: string): MessageContent => ({ kind: 'text', text: value });
const chip = (postbackData: string, label = 'chip'): MessageContent => ({
  kind: 'suggestion',
  postbackData,
  text: label,
  suggestionType: 'REPLY',
});

/** Runs messages through routing the way the workflow does: each decision's update feeds the next. */
function converse(
  events: InboundMessageEvent[],
  start: RoutingContext = initialRoutingContext(),
  routing: RoutingConfig = config,
): { decisions: RouteDecision[]; context: RoutingContext } {
  let context = start;
  const decisions: RouteDecision[] = [];
  for (const event of events) {
    const decision = decideRoute({ event, context }, routing);
    decisions.push(decision);
    context = applyContextUpdate(context, decision.contextUpdate);
  }
  return { decisions, context };
}

function only(events: InboundMessageEvent[], start?: RoutingContext, routing?: RoutingConfig): RouteDecision {
  const { decisions } = converse(events, start, routing);
  const last = decisions.at(-1);
  if (last === undefined) throw new Error('no decision');
  return last;
}

describe('seed 004: route the message by its context', () => {
  test("« nouvelle conversation » + « question fréquente » → automation answers, in the user's locale, greeting them by name", () => {
    const decision = only([bm(text('What are your opening hours?'), { resolvedLocale: 'en', displayName: 'Ana' })]);
    expect(decision).toMatchObject({ action: 'automation_reply', intent: 'opening-hours', locale: 'en' });
    expect(decision.action === 'automation_reply' && decision.reply.text).toBe(
      "Hi Ana!\nWe're open Monday to Saturday, 9am to 7pm.",
    );
    expect(decision.contextUpdate).toMatchObject({
      isNew: false,
      automationFailures: 0,
      displayName: 'Ana',
      locale: 'en',
    });

    const french = only([
      bm(text("Quels sont vos horaires d'ouverture ?"), { resolvedLocale: 'fr', displayName: 'Élodie' }),
    ]);
    expect(french).toMatchObject({ action: 'automation_reply', intent: 'opening-hours', locale: 'fr' });
    expect(french.action === 'automation_reply' && french.reply.text).toBe(
      'Bonjour Élodie !\nNous sommes ouverts du lundi au samedi, de 9 h à 19 h.',
    );
  });

  test("keywords are matched in the user's locale only, ignoring case and accents; the greeting opens only the first reply", () => {
    const { decisions } = converse([
      bm(text('LIVRAISON de mon colis ?'), { resolvedLocale: 'fr' }),
      bm(text('Et les remboursements ?'), { resolvedLocale: 'fr' }),
    ]);
    expect(decisions.map((d) => d.action === 'automation_reply' && d.intent)).toEqual(['delivery', 'returns']);
    expect(decisions[1]?.action === 'automation_reply' && decisions[1].reply.text).toMatch(/^Vous pouvez retourner/);
    // An English keyword in a French conversation is not a French question.
    expect(only([bm(text('opening hours'), { resolvedLocale: 'fr' })]).action).toBe('retry_prompt');
  });

  test("« Si l'automatisation ne parvient pas à répondre à la question, transmettez-la à un agent »: retry prompt, then a human after maxFailedAttempts", () => {
    const { decisions, context } = converse([
      bm(text('blue widgets?'), { resolvedLocale: 'en', displayName: 'Ana' }),
      bm(text('the blue ones')),
    ]);
    const [first, second] = decisions;
    expect(first).toMatchObject({ action: 'retry_prompt', attempt: 1, contextUpdate: { automationFailures: 1 } });
    expect(first?.action === 'retry_prompt' && first.reply.text).toBe(
      "Hi Ana!\nSorry, I didn't catch that. Could you put it another way, or pick a topic below?",
    );
    // The prompt invites the user to pick a topic (seed 004: "en invitant l'utilisateur à fournir des informations supplémentaires") or reach a person.
    expect(first?.action === 'retry_prompt' && first.reply.suggestions?.map((s) => s.postbackData)).toEqual([
      'faq:opening-hours',
      'faq:delivery',
      'faq:returns',
      AGENT_REQUEST_POSTBACK,
    ]);
    expect(second).toMatchObject({
      action: 'handoff',
      reason: 'automation_failed',
      queue: 'general',
      contextUpdate: { automationFailures: 2, handoffQueue: 'general' },
    });
    expect(second?.action === 'handoff' && second.reply.text).toBe(
      "Thanks Ana. I'm passing you to our team; someone will reply here shortly.",
    );
    expect(context.handoffQueue).toBe('general');
  });

  test('automation stops asking again after the configured number of tries, and an answer resets the count', () => {
    const patient: RoutingConfig = { ...config, automation: { ...config.automation, maxFailedAttempts: 3 } };
    const { decisions } = converse(
      [bm(text('hm')), bm(text('hmm')), bm(text('opening hours?')), bm(text('hmm')), bm(text('hmm')), bm(text('hmm'))],
      initialRoutingContext(),
      patient,
    );
    expect(decisions.map((d) => d.action)).toEqual([
      'retry_prompt',
      'retry_prompt',
      'automation_reply',
      'retry_prompt',
      'retry_prompt',
      'handoff',
    ]);

    const impatient: RoutingConfig = { ...config, automation: { ...config.automation, maxFailedAttempts: 1 } };
    expect(only([bm(text('hm'))], initialRoutingContext(), impatient)).toMatchObject({
      action: 'handoff',
      reason: 'automation_failed',
    });
  });

  test('« Si les paramètres régionaux du message ne correspondent pas aux paramètres régionaux par défaut de votre agent, routez à un agent qui prend en charge ces paramètres régionaux »', () => {
    // Automation speaks Spanish but has no Spanish answer about returns: a Spanish-speaking human.
    const spanish = only([bm(text('¿Cómo hago una devolución?'), { resolvedLocale: 'es-MX', displayName: 'Lucía' })]);
    expect(spanish).toMatchObject({
      action: 'handoff',
      reason: 'no_answer_in_locale',
      intent: 'returns',
      queue: 'general',
      locale: 'es-MX',
    });
    expect(spanish.action === 'handoff' && spanish.reply.text).toBe(
      'Gracias Lucía. Te paso con nuestro equipo; alguien te responderá aquí en breve.',
    );

    // Automation that does not speak French at all hands a French speaker to the French queue.
    const { fr: _fr, ...withoutFrench } = config.templates;
    const englishOnly: RoutingConfig = { ...config, templates: withoutFrench };
    const french = only(
      [bm(text('Bonjour, une question'), { resolvedLocale: 'fr-CA' })],
      initialRoutingContext(),
      englishOnly,
    );
    expect(french).toMatchObject({
      action: 'handoff',
      reason: 'locale_unsupported',
      queue: 'francais',
      locale: 'fr-CA',
    });
    // Acknowledged in the agent's default language, the only one automation has.
    expect(french.action === 'handoff' && french.reply.text).toMatch(/^Thanks\./);

    // A language no queue serves falls back to the default queue.
    expect(only([bm(text('Hallo'), { userDeviceLocale: 'de-DE' })])).toMatchObject({
      action: 'handoff',
      reason: 'locale_unsupported',
      queue: 'general',
      locale: 'de-DE',
    });
  });

  test("a regional locale (fr-CA) is served by the language's templates and queue", () => {
    const decision = only([
      bm(text('blah'), { resolvedLocale: 'fr-ca' }),
      bm(text('blah'), { resolvedLocale: 'fr-ca' }),
    ]);
    expect(decision).toMatchObject({ action: 'handoff', queue: 'francais', locale: 'fr-CA' });
    expect(decision.action === 'handoff' && decision.reply.text).toMatch(/^Merci\. Je vous mets en relation/);
  });

  test("« Si la question concerne un lieu spécifique, transmettez-la à une personne ayant des informations sur ce lieu » (placeId → the place's queue)", () => {
    const { decisions, context } = converse([
      bm(text('Avez-vous ce modèle en stock ?'), { resolvedLocale: 'fr', placeId: PARIS, displayName: 'Jules' }),
      bm(text('En taille 42 ?'), { resolvedLocale: 'fr', placeId: PARIS }),
    ]);
    expect(decisions[0]).toMatchObject({
      action: 'handoff',
      reason: 'place',
      queue: 'paris-opera',
      placeId: PARIS,
      contextUpdate: { confirmedPlaceId: PARIS },
    });
    expect(decisions[0]?.action === 'handoff' && decisions[0].reply.text).toBe(
      "Merci Jules. Je vous mets en relation avec notre équipe de Switchboard Paris Opéra ; quelqu'un vous répondra ici très vite.",
    );
    // Later messages wait for that queue's human instead of being routed again.
    expect(decisions[1]).toMatchObject({ action: 'queued', queue: 'paris-opera' });
    expect(context.confirmedPlaceId).toBe(PARIS);
  });

  test("a place question in a language the place's team does not speak goes to a team that speaks it", () => {
    expect(only([bm(text('¿Tienen este modelo?'), { resolvedLocale: 'es', placeId: PARIS })])).toMatchObject({
      action: 'handoff',
      reason: 'place',
      queue: 'general',
      placeId: PARIS,
    });
  });

  test('« si un message contient nearPlaceId ... l\'agent doit confirmer le lieu » → suggestion chips, and the "place:<id>" postback routes to that place\'s queue', () => {
    const near: InboundContext = { resolvedLocale: 'en', nearPlaceId: PARIS, displayName: 'Ana' };
    const { decisions, context } = converse([
      bm(text('Do you have this in stock?'), near),
      bm(chip(placePostback(PARIS), 'Yes'), near),
    ]);
    const [ask, confirmed] = decisions;
    expect(ask).toMatchObject({
      action: 'confirm_place',
      placeId: PARIS,
      contextUpdate: { placeConfirmation: { placeId: PARIS, status: 'pending' } },
    });
    expect(ask?.action === 'confirm_place' && ask.reply).toEqual({
      text: 'Hi Ana!\nAre you contacting us about Switchboard Paris Opéra?',
      suggestions: [
        { kind: 'reply', text: 'Yes', postbackData: `place:${PARIS}` },
        { kind: 'reply', text: 'Another location', postbackData: PLACE_DECLINED_POSTBACK },
      ],
    });
    expect(confirmed).toMatchObject({ action: 'handoff', reason: 'place', queue: 'paris-opera', placeId: PARIS });
    expect(context).toMatchObject({
      confirmedPlaceId: PARIS,
      placeConfirmation: { placeId: PARIS, status: 'confirmed' },
      handoffQueue: 'paris-opera',
    });
  });

  test('declining the proposed place goes to a human who can find the right one; ignoring the question is not asked again', () => {
    const near: InboundContext = { resolvedLocale: 'fr', nearPlaceId: PARIS };
    const declined = converse([bm(text('Bonjour'), near), bm(chip(PLACE_DECLINED_POSTBACK, 'Un autre magasin'), near)]);
    expect(declined.decisions[1]).toMatchObject({ action: 'handoff', reason: 'place_declined', queue: 'francais' });
    expect(declined.context.placeConfirmation).toEqual({ placeId: PARIS, status: 'declined' });

    const ignored = converse([
      bm(text('Bonjour'), near),
      bm(text('vos horaires ?'), near),
      bm(text('et la livraison ?'), near),
    ]);
    expect(ignored.decisions.map((d) => d.action)).toEqual(['confirm_place', 'automation_reply', 'automation_reply']);
    expect(ignored.context.placeConfirmation?.status).toBe('declined');
  });

  test("« Si le message se trouve dans une conversation en cours, acheminez-le vers l'agent réel participant à la conversation »", () => {
    const withAgent = withLiveAgent(
      { ...initialRoutingContext(), isNew: false, handoffQueue: 'francais' },
      { id: 'agent-7' },
    );
    for (const content of [
      text('vos horaires ?'),
      { kind: 'image', url: 'https://example.test/i.jpg' } as const,
      chip('faq:delivery'),
    ]) {
      expect(only([bm(content, { resolvedLocale: 'fr' })], withAgent)).toMatchObject({
        action: 'live_agent',
        agentId: 'agent-7',
        queue: 'francais',
      });
    }
  });

  test('after release back to automation, automation answers again and the place is not re-routed', () => {
    const released = releaseToAutomation(
      withLiveAgent(
        { isNew: false, automationFailures: 2, handoffQueue: 'paris-opera', confirmedPlaceId: PARIS },
        { id: 'a' },
      ),
    );
    expect(released).toEqual({ isNew: false, automationFailures: 0, confirmedPlaceId: PARIS });
    expect(only([bm(text('opening hours?'), { resolvedLocale: 'en', placeId: PARIS })], released)).toMatchObject({
      action: 'automation_reply',
      intent: 'opening-hours',
    });
  });

  test('dialogflowResponse with autoResponded → no second answer', () => {
    const dialogflow: DialogflowInfo = {
      autoResponded: true,
      faqAnswers: [{ question: 'Opening hours?', answer: 'From 9am.' }],
      intents: [],
    };
    expect(only([bm(text('opening hours?'), { resolvedLocale: 'en' }, dialogflow)])).toMatchObject({
      action: 'no_reply',
      reason: 'dialogflow_auto_responded',
    });
    // Without autoResponded, Switchboard answers itself.
    expect(
      only([bm(text('opening hours?'), { resolvedLocale: 'en' }, { ...dialogflow, autoResponded: false })]).action,
    ).toBe('automation_reply');
  });

  test('« Indépendamment du texte associé à la suggestion, les données de postback sont lisibles par un ordinateur »: postbackData → intent without parsing text', () => {
    // The chip's text says "opening hours" but its postback data names delivery: postback data wins.
    expect(only([bm(chip('faq:delivery', 'Opening hours'))])).toMatchObject({
      action: 'automation_reply',
      intent: 'delivery',
    });
    // Unknown postback data is not guessed from the chip's text either.
    expect(only([bm(chip('promo:spring', 'Opening hours'))])).toMatchObject({ action: 'retry_prompt' });
    expect(only([bm(chip(AGENT_REQUEST_POSTBACK, 'Talk to a person'))])).toMatchObject({
      action: 'handoff',
      reason: 'user_request',
      queue: 'general',
    });
  });

  test('authenticationResponse → success, or a localized error with a retry offer', () => {
    const success = only([
      bm(
        { kind: 'auth', codeOutcome: 'handed_over', redirectUri: 'https://example.test/cb' },
        { resolvedLocale: 'fr', displayName: 'Jules' },
      ),
    ]);
    expect(success).toMatchObject({
      action: 'automation_reply',
      intent: 'auth:success',
      reply: { text: 'Vous êtes connecté, Jules. Comment puis-je vous aider ?' },
    });
    // No AUTH_CODE_URL: the code was dropped unused, and the sign-in counts as done (as before the code was dropped at the API).
    expect(only([bm({ kind: 'auth', codeOutcome: 'dropped' }, { resolvedLocale: 'fr' })])).toMatchObject({
      intent: 'auth:success',
    });
    // The consumer refused it or did not answer: the user is asked to try again.
    expect(only([bm({ kind: 'auth', codeOutcome: 'not_handed_over' }, { resolvedLocale: 'fr' })])).toMatchObject({
      intent: 'auth:failure',
    });

    const failure = only([
      bm(
        { kind: 'auth', codeOutcome: 'none', error: { error: 'ACCESS_DENIED', errorDescription: 'user cancelled' } },
        { resolvedLocale: 'fr' },
      ),
    ]);
    expect(failure).toMatchObject({ action: 'automation_reply', intent: 'auth:failure' });
    expect(failure.action === 'automation_reply' && failure.reply).toEqual({
      text: 'Désolé, la connexion a échoué. Voulez-vous réessayer ?',
      suggestions: [
        { kind: 'reply', text: 'Réessayer', postbackData: AUTH_RETRY_POSTBACK },
        { kind: 'reply', text: 'Parler à un conseiller', postbackData: AGENT_REQUEST_POSTBACK },
      ],
    });
    expect(only([bm(chip(AUTH_RETRY_POSTBACK, 'Réessayer'), { resolvedLocale: 'fr' })])).toMatchObject({
      action: 'auth_retry',
      locale: 'fr',
    });
  });

  test("« assurez-vous qu'elle sait comment répondre si un utilisateur partage une image »: images and files are acknowledged and handed to a human", () => {
    const image = only([bm({ kind: 'image', url: 'https://storage.googleapis.com/x' }, { resolvedLocale: 'en' })]);
    expect(image).toMatchObject({
      action: 'handoff',
      reason: 'attachment',
      queue: 'general',
      reply: { text: "Thanks, we've received it. A member of our team will take a look and reply here." },
    });
    const file = only([rbm({ kind: 'file', file: { mimeType: 'application/pdf', fileName: 'facture.pdf' } })]);
    expect(file).toMatchObject({ action: 'handoff', reason: 'attachment', queue: 'francais', locale: 'fr' });
  });

  test('a shared location is matched to the nearest known place for confirmation, else handed to a human', () => {
    expect(only([rbm({ kind: 'location', latitude: 48.87, longitude: 2.33 })])).toMatchObject({
      action: 'confirm_place',
      placeId: PARIS,
      locale: 'fr',
    });
    expect(only([rbm({ kind: 'location', latitude: 45.76, longitude: 4.84 })])).toMatchObject({
      action: 'handoff',
      reason: 'location',
      queue: 'francais',
    });
    // Sharing a location near the place just proposed confirms it.
    const { decisions } = converse([
      bm(text('hello'), { resolvedLocale: 'en', nearPlaceId: PARIS }),
      bm({ kind: 'location', latitude: 48.872, longitude: 2.332 }, { resolvedLocale: 'en', nearPlaceId: PARIS }),
    ]);
    expect(decisions[1]).toMatchObject({
      action: 'handoff',
      reason: 'place',
      queue: 'paris-opera',
      contextUpdate: { confirmedPlaceId: PARIS },
    });
  });

  test("replies use the user's locale and displayName where known (RBM: no name, locale from the number)", () => {
    const decision = only([rbm(text('horaires ?'))]);
    expect(decision).toMatchObject({
      action: 'automation_reply',
      locale: 'fr',
      reply: { text: 'Bonjour !\nNous sommes ouverts du lundi au samedi, de 9 h à 19 h.' },
    });
    expect(decision.contextUpdate.displayName).toBeUndefined();
    // A name learned earlier keeps being used when later messages do not carry it.
    expect(
      only([
        bm(text('return policy?'), { resolvedLocale: 'en', displayName: 'Ana' }),
        bm(text('and returns?'), { resolvedLocale: 'en' }),
      ]),
    ).toMatchObject({
      reply: { text: 'You can return any item within 30 days, Ana. Start at switchboard.example/returns.' },
    });
  });

  test('a conversation handed to a queue waits for its human: no automated reply', () => {
    const waiting: RoutingContext = { isNew: false, automationFailures: 2, handoffQueue: 'general' };
    expect(only([bm(text('opening hours?'))], waiting)).toMatchObject({ action: 'queued', queue: 'general' });
  });

  test('a live-agent request hands off with an acknowledgement, or keeps the agent or queue the conversation has', () => {
    const request = decideLiveAgentRequest(
      { isNew: false, automationFailures: 0, locale: 'fr', displayName: 'Jules' },
      config,
    );
    expect(request).toMatchObject({
      action: 'handoff',
      reason: 'user_request',
      queue: 'francais',
      contextUpdate: { handoffQueue: 'francais' },
    });
    expect(
      decideLiveAgentRequest({ isNew: false, automationFailures: 0, handoffQueue: 'general' }, config),
    ).toMatchObject({ action: 'queued', queue: 'general' });
    expect(decideLiveAgentRequest(withLiveAgent(initialRoutingContext(), { id: 'a1' }), config)).toMatchObject({
      action: 'live_agent',
      agentId: 'a1',
    });
  });

  test('the SLA holding message and the handoff acknowledgement are localized and personal', () => {
    expect(holdingMessage({ locale: 'fr-CA', displayName: 'Jules' }, config)).toEqual({
      text: "Merci de votre patience, Jules. Toute l'équipe est occupée ; un conseiller vous répondra dès que possible.",
    });
    expect(holdingMessage({ locale: 'en' }, config).text).toBe(
      'Thanks for waiting. Everyone is busy right now; a member of our team will be with you as soon as possible.',
    );
    // A language automation does not speak falls back to the agent's default.
    expect(holdingMessage({ locale: 'ja' }, config).text).toMatch(/^Thanks for waiting\./);
    expect(handoffAcknowledgement({ locale: 'es', displayName: 'Lucía' }, config, PARIS).text).toBe(
      'Gracias Lucía. Te paso con nuestro equipo de Switchboard Paris Opéra; alguien te responderá aquí en breve.',
    );
  });

  test('decisions are deterministic and plain JSON (they are computed in workflow code and kept in history)', () => {
    const event = bm(text('opening hours?'), { resolvedLocale: 'en', nearPlaceId: PARIS });
    const first = decideRoute({ event, context: initialRoutingContext() }, config);
    const again = decideRoute(
      { event, context: initialRoutingContext() },
      JSON.parse(JSON.stringify(config)) as RoutingConfig,
    );
    expect(again).toEqual(first);
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
  });
});
