/**
 * Fault injection: rules added over POST /sim/faults (or in-process) that make matching calls fail
 * the way real platforms do: an error status (5xx, 404, 429 with Retry-After …), added latency, or
 * no answer at all (a timeout from the client's side). A rule can hit before the call takes effect
 * (the platform refused it) or after (it took effect but the answer was lost), for N calls or a
 * fraction of them, globally or for one phone / conversation.
 */
import { z } from 'zod';

import { type CallApi, normalizePhoneParam } from './calls';
import { type SeededRandom } from './rng';

export const faultRuleSchema = z
  .object({
    /** Which API the rule applies to; all of them when unset. */
    api: z.enum(['rbm', 'bm', 'twilio', 'oauth', 'desk']).optional(),
    method: z.string().toUpperCase().optional(),
    /** Substring of the path, e.g. `agentMessages`, `agentEvents`, `receipt`, `Messages.json`. */
    pathContains: z.string().min(1).optional(),
    /** Only calls for this E.164 number (RBM path, Twilio `To`). */
    phone: z.string().min(1).optional(),
    /** Only calls for this conversation key or Business Messages conversation id. */
    conversation: z.string().min(1).optional(),
    /** Answer with this status instead of the real one. */
    status: z.number().int().min(200).max(599).optional(),
    /** With status 429/503: the Retry-After header, in seconds. */
    retryAfterSeconds: z.number().int().min(0).optional(),
    /** Wait this long before handling the call. */
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** Never answer (until the client gives up or the hold limit passes). */
    timeout: z.boolean().optional(),
    /** Let the call take effect first, then fail the answer (a lost response). */
    afterProcessing: z.boolean().optional(),
    /** Apply to this many matching calls, then retire. Unlimited when unset. */
    times: z.number().int().positive().optional(),
    /** Apply to this fraction of matching calls (seeded, so repeatable). */
    probability: z.number().min(0).max(1).optional(),
  })
  .refine((r) => r.status !== undefined || r.latencyMs !== undefined || r.timeout === true, {
    message: 'a fault needs status, latencyMs or timeout',
  });

export type FaultRuleInput = z.input<typeof faultRuleSchema>;
export type FaultRuleSpec = z.output<typeof faultRuleSchema>;

export interface FaultRule extends FaultRuleSpec {
  id: string;
  /** How many calls it has hit so far. */
  hits: number;
}

/** What the fault layer knows about a call before it is handled. */
export interface FaultTarget {
  api: CallApi;
  method: string;
  path: string;
  phone?: string;
  conversation?: string;
}

function conversationMatches(rule: string, target: string | undefined): boolean {
  if (!target) return false;
  const wanted = rule.replace(/ /g, '+');
  return target === wanted || target === `bm:${wanted}`;
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private nextId = 1;

  constructor(private readonly random: SeededRandom) {}

  add(input: FaultRuleInput): FaultRule {
    const spec = faultRuleSchema.parse(input);
    const rule: FaultRule = {
      ...spec,
      ...(spec.phone ? { phone: normalizePhoneParam(spec.phone) } : {}),
      id: `fault-${this.nextId++}`,
      hits: 0,
    };
    this.rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  /** The first live rule matching the call, counted as a hit (and retired when spent). */
  take(target: FaultTarget): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.api && rule.api !== target.api) continue;
      if (rule.method && rule.method !== target.method) continue;
      if (rule.pathContains && !target.path.includes(rule.pathContains)) continue;
      if (rule.phone && rule.phone !== target.phone) continue;
      if (rule.conversation && !conversationMatches(rule.conversation, target.conversation)) continue;
      // Draw only for probabilistic rules, so adding one does not shift other generated ids.
      if (rule.probability !== undefined && this.random.next() >= rule.probability) continue;
      rule.hits++;
      if (rule.times !== undefined && rule.hits >= rule.times) this.rules = this.rules.filter((r) => r !== rule);
      return { ...rule };
    }
    return undefined;
  }
}

/** Human-readable summary recorded with the call. */
export function describeFault(rule: FaultRule): string {
  const parts = [rule.id];
  if (rule.latencyMs) parts.push(`latency ${rule.latencyMs} ms`);
  if (rule.timeout) parts.push('no answer');
  if (rule.status)
    parts.push(
      `status ${rule.status}${rule.retryAfterSeconds !== undefined ? ` retry-after ${rule.retryAfterSeconds}s` : ''}`,
    );
  if (rule.afterProcessing) parts.push('after processing');
  return parts.join(', ');
}
