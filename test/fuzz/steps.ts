/**
 * The fuzzer's vocabulary: one JSON step per thing that can happen to a conversation (an inbound
 * webhook event, an operator call, an activity outcome, a time skip), and the generator that draws
 * a sequence of them from a seed. A sequence is plain JSON: printed on failure, shrunk, replayed.
 */
import { type Rng } from './rng';

/** Activities whose outcomes a sequence scripts (per conversation, consumed in call order). */
export const SCRIPTABLE_ACTIVITIES = [
  'sendMessage',
  'sendReadReceipt',
  'sendTyping',
  'sendRepresentativeEvent',
  'revokeMessage',
  'sendSms',
  'notifyHandoff',
  'loadPreviousRun',
] as const;
export type ScriptableActivity = (typeof SCRIPTABLE_ACTIVITIES)[number];

/**
 * What one activity attempt does: succeed, fail and be retried, fail for good (non-retryable
 * ApplicationFailure), or outlive its start-to-close timeout (the server times it out and retries;
 * costs real time, since the test server does not skip time while an activity runs).
 * `lag` is for loadPreviousRun only: visibility has not caught up, the lookup finds nothing.
 */
export type Outcome = 'ok' | 'retryable' | 'nonRetryable' | 'slow' | 'lag';

export type Step =
  /** A user message with a new id (text picks the routing path). */
  | { k: 'msg'; id: string; text: string; locale?: string }
  /** Google redelivers an earlier event (same dedupe key), by index among the events delivered so far. */
  | { k: 'redeliver'; pick: number }
  /** DELIVERED / READ for one of our outbound messages (by index among those the platform saw). */
  | { k: 'receipt'; pick: number; receipt: 'DELIVERED' | 'READ' }
  /** RBM TTL server event for one of our outbound messages. */
  | { k: 'ttl'; pick: number; revoked: boolean }
  | { k: 'typing'; on: boolean }
  /** Business Messages: the user asked for a live agent. */
  | { k: 'liveAgent' }
  /** Operator POST .../messages (update-with-start); the same `idem` again is a retried POST. */
  | {
      k: 'send';
      idem: string;
      deliverWithinMs?: number;
      readWithinMs?: number;
      sms?: boolean;
      timeSensitive?: boolean;
      human?: boolean;
    }
  | { k: 'assign'; to: 'human' | 'automation'; agent?: string }
  /** Operator marks every unread message READ. */
  | { k: 'read' }
  | { k: 'agentTyping'; on: boolean }
  /** The next attempts of `activity` in this conversation have these outcomes (then success). */
  | { k: 'fault'; activity: ScriptableActivity; outcomes: Outcome[] }
  /** Time passes (ms). */
  | { k: 'skip'; ms: number }
  /** Time passes beyond the idle timeout: the conversation may close; the next event reopens it. */
  | { k: 'idle' };

export type StepKind = Step['k'];

/** A conversation the fuzzer drives: channel, who it is, the settings it starts with. */
export interface SequenceSetup {
  channel: 'rbm' | 'bm';
  /** RBM: the user's country (gives the locale through the routing file's countryLocales). */
  country: 'US' | 'FR' | 'ES';
  /** BM: the context's locales. */
  bmLocale?: { resolvedLocale?: string; userDeviceLocale?: string };
  /** Without a routing file every message goes to the default queue. */
  routing: boolean;
  continueAsNewAfterEvents: number;
  /** Undefined: the workflow's default window. */
  dedupeWindow?: number;
}

export interface Sequence {
  /** The seed this sequence was drawn from (informational once shrunk). */
  seed: number;
  setup: SequenceSetup;
  steps: Step[];
}

/** What the generator may draw: weights per step kind plus knobs; a profile (profile.ts) chooses them. */
export interface GeneratorOptions {
  minSteps: number;
  maxSteps: number;
  weights: Partial<Record<StepKind, number>>;
  /** Relative weights of the outcomes a `fault` step scripts. */
  outcomes: Partial<Record<Outcome, number>>;
  /** Activities a `fault` step may target. */
  faultActivities: readonly ScriptableActivity[];
  /** Probability that a sequence runs with a small dedupe window (items 7). */
  smallDedupeWindow: number;
  /** Probability that a sequence runs without a routing file. */
  noRouting: number;
  /** Continue-as-new thresholds (history events) a sequence may start with. */
  continueAsNewThresholds: readonly number[];
  /** User texts the generator leaves out. */
  avoidTexts?: readonly string[];
}

const TEXTS: Record<string, string[]> = {
  en: [
    'What are your opening hours?',
    'where is my parcel',
    'I want a refund',
    'I need a human',
    'blorp',
    'hello',
    'faq:opening-hours',
    '[image]',
  ],
  fr: ['Quels sont vos horaires ?', 'mon colis', 'je veux un humain', 'bonjour', 'zzz'],
  es: ['¿Cuál es el horario?', 'quiero una devolución', 'hola', 'persona'],
};

/** Draws one sequence. Deterministic in `rng`. */
export function generateSequence(rng: Rng, seed: number, options: GeneratorOptions): Sequence {
  const channel = rng.chance(0.65) ? 'rbm' : 'bm';
  const country = rng.pick(['US', 'US', 'FR', 'ES'] as const);
  const setup: SequenceSetup = {
    channel,
    country,
    routing: !rng.chance(options.noRouting),
    continueAsNewAfterEvents: rng.pick(options.continueAsNewThresholds),
    ...(rng.chance(options.smallDedupeWindow) ? { dedupeWindow: rng.pick([8, 16]) } : {}),
  };
  if (channel === 'bm') {
    const locales = ['en', 'en-US', 'fr', 'fr-FR', 'es', 'de'];
    setup.bmLocale = {
      ...(rng.chance(0.8) ? { resolvedLocale: rng.pick(locales) } : {}),
      ...(rng.chance(0.6) ? { userDeviceLocale: rng.pick(locales) } : {}),
    };
  }
  const weights = { ...options.weights };
  if (channel !== 'bm') delete weights.liveAgent;
  if (channel !== 'rbm') delete weights.ttl;
  const length = rng.int(options.minSteps, options.maxSteps);
  const steps: Step[] = [];
  let messages = 0;
  let sends = 0;
  for (let i = 0; i < length; i++) {
    const kind = i === 0 ? 'msg' : rng.weighted(weights);
    steps.push(
      drawStep(kind, rng, options, {
        nextMessage: () => `m${++messages}`,
        nextSend: () => (sends > 0 && rng.chance(0.25) ? `op-${rng.int(1, sends)}` : `op-${++sends}`),
        locale: localeOf(setup),
      }),
    );
  }
  return { seed, setup, steps };
}

function localeOf(setup: SequenceSetup): string {
  if (setup.channel === 'bm')
    return (setup.bmLocale?.resolvedLocale ?? setup.bmLocale?.userDeviceLocale ?? 'en').slice(0, 2);
  return setup.country === 'FR' ? 'fr' : setup.country === 'ES' ? 'es' : 'en';
}

function drawStep(
  kind: StepKind,
  rng: Rng,
  options: GeneratorOptions,
  ids: { nextMessage(): string; nextSend(): string; locale: string },
): Step {
  switch (kind) {
    case 'msg': {
      const avoid = new Set(options.avoidTexts ?? []);
      const pool = (rng.chance(0.8) ? (TEXTS[ids.locale] ?? TEXTS.en!) : TEXTS.en!).filter((t) => !avoid.has(t));
      return { k: 'msg', id: ids.nextMessage(), text: rng.pick(pool.length > 0 ? pool : ['hello']) };
    }
    case 'redeliver':
      return { k: 'redeliver', pick: rng.int(0, 1000) };
    case 'receipt':
      return { k: 'receipt', pick: rng.int(0, 1000), receipt: rng.chance(0.55) ? 'DELIVERED' : 'READ' };
    case 'ttl':
      return { k: 'ttl', pick: rng.int(0, 1000), revoked: rng.chance(0.5) };
    case 'typing':
      return { k: 'typing', on: rng.chance(0.6) };
    case 'liveAgent':
      return { k: 'liveAgent' };
    case 'send': {
      const step: Step = { k: 'send', idem: ids.nextSend() };
      if (rng.chance(0.4)) step.deliverWithinMs = rng.pick([2 * 60_000, 10 * 60_000, 60 * 60_000]);
      if (rng.chance(0.15)) step.readWithinMs = rng.pick([5 * 60_000, 30 * 60_000]);
      if (rng.chance(0.5)) step.sms = true;
      if (step.sms && rng.chance(0.2)) step.timeSensitive = true;
      if (rng.chance(0.3)) step.human = true;
      return step;
    }
    case 'assign':
      return rng.chance(0.6)
        ? { k: 'assign', to: 'human', agent: rng.pick(['alice', 'bob']) }
        : { k: 'assign', to: 'automation' };
    case 'read':
      return { k: 'read' };
    case 'agentTyping':
      return { k: 'agentTyping', on: rng.chance(0.6) };
    case 'fault': {
      const activity = rng.pick(options.faultActivities);
      const outcomes: Outcome[] = [];
      const outcomeWeights = { ...options.outcomes };
      if (activity !== 'loadPreviousRun') delete outcomeWeights.lag;
      else delete outcomeWeights.slow;
      const n = rng.int(1, 3);
      for (let i = 0; i < n; i++) outcomes.push(rng.weighted(outcomeWeights));
      return { k: 'fault', activity, outcomes };
    }
    case 'skip':
      return { k: 'skip', ms: rng.pick([1_000, 5_000, 20_000, 60_000, 3 * 60_000, 6 * 60_000, 15 * 60_000]) };
    case 'idle':
      return { k: 'idle' };
  }
}
