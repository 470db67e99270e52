/**
 * Simulated users' devices and the life of each agent message on them: accepted → DELIVERED after
 * x ms (if online; never, if so configured) → READ after y ms (unless the user turned READ
 * receipts off), revoke before delivery, TTL expiry with TTL_EXPIRATION_REVOKED or
 * TTL_EXPIRATION_REVOKE_FAILED. Receipts go out through PlatformWebhooks as Google would send them.
 * Timers run on real time.
 */
import { z } from 'zod';

import { bmReceipts, rbmServerEvent, rbmUserEvent } from './payloads';
import { type SeededRandom } from './rng';
import { type Timers } from './timers';
import { type PlatformWebhooks } from './webhooks';

export const ALL_FEATURES = [
  'REVOCATION',
  'RICHCARD_STANDALONE',
  'RICHCARD_CAROUSEL',
  'ACTION_CREATE_CALENDAR_EVENT',
  'ACTION_DIAL',
  'ACTION_OPEN_URL',
  'ACTION_SHARE_LOCATION',
  'ACTION_VIEW_LOCATION',
] as const;

/** How one simulated device behaves. `null` delays mean "never". */
export interface DeviceProfile {
  /** RBM: the number has RCS (false → 404 on send, events, capabilities). BM: the conversation exists (false → 403). */
  reachable: boolean;
  /** Offline devices accept messages (200) but deliver only once back online. */
  online: boolean;
  deliverAfterMs: number | null;
  readAfterMs: number | null;
  /** What RBM reports when a message's ttl / expireTime passes before delivery. */
  ttlOutcome: 'revoked' | 'revoke_failed';
  features: string[];
}

export const deviceProfilePatchSchema = z
  .object({
    reachable: z.boolean(),
    /** Alias of `reachable` for phones. */
    rcs: z.boolean(),
    online: z.boolean(),
    deliverAfterMs: z.number().int().min(0).nullable(),
    readAfterMs: z.number().int().min(0).nullable(),
    ttlOutcome: z.enum(['revoked', 'revoke_failed']),
    features: z.array(z.string()),
  })
  .partial()
  .strict();

export type DeviceProfilePatch = z.input<typeof deviceProfilePatchSchema>;

export type MessageStatus = 'pending' | 'delivered' | 'read' | 'revoked' | 'expired';

/** An agent message as the platform holds it (GET /sim/messages). */
export interface SimMessage {
  channel: 'rbm' | 'bm';
  messageId: string;
  agentId?: string;
  msisdn?: string;
  conversationId?: string;
  /** Conversation key, as Switchboard spells it. */
  conversation: string;
  status: MessageStatus;
  acceptedAt: string;
  expireAt?: string;
  deliveredAt?: string;
  readAt?: string;
  /** The request body as received. */
  request: unknown;
}

export interface PhonesOptions {
  timers: Timers;
  webhooks: PlatformWebhooks;
  random: SeededRandom;
  defaults: DeviceProfile;
  /** Business Messages agent name put in BM webhooks. */
  bmAgent: string;
}

const deviceId = (m: Pick<SimMessage, 'channel' | 'msisdn' | 'conversationId'>) =>
  m.channel === 'rbm' ? `rbm:${m.msisdn}` : `bm:${m.conversationId}`;

export class Phones {
  private defaults: DeviceProfile;
  private readonly overrides = new Map<string, Partial<DeviceProfile>>();
  private readonly messages = new Map<string, SimMessage>();
  /** Cancel functions of each message's pending timers, by message key. */
  private readonly timers = new Map<string, { deliver?: () => void; read?: () => void; ttl?: () => void }>();

  constructor(private readonly options: PhonesOptions) {
    this.defaults = { ...options.defaults };
  }

  /** The effective profile of `rbm:{msisdn}` or `bm:{conversationId}`. */
  profile(id: string): DeviceProfile {
    return { ...this.defaults, ...this.overrides.get(id) };
  }

  /** Device ids with their own settings. */
  configured(): Record<string, DeviceProfile> {
    return Object.fromEntries([...this.overrides.keys()].map((id) => [id, this.profile(id)]));
  }

  defaultsProfile(): DeviceProfile {
    return { ...this.defaults };
  }

  setDefaults(patch: DeviceProfilePatch): DeviceProfile {
    this.defaults = { ...this.defaults, ...normalizePatch(patch) };
    return this.defaultsProfile();
  }

  configure(id: string, patch: DeviceProfilePatch): DeviceProfile {
    const wasOnline = this.profile(id).online;
    this.overrides.set(id, { ...this.overrides.get(id), ...normalizePatch(patch) });
    const now = this.profile(id);
    if (now.online !== wasOnline) this.onlineChanged(id, now.online);
    return now;
  }

  forget(id: string): void {
    this.overrides.delete(id);
  }

  /** Keys are per agent (RBM: messages and events share one id space per agent) or per conversation (BM). */
  static rbmKey(agentId: string, id: string): string {
    return `rbm|${agentId}|${id}`;
  }

  static bmKey(conversationId: string, id: string): string {
    return `bm|${conversationId}|${id}`;
  }

  get(key: string): SimMessage | undefined {
    return this.messages.get(key);
  }

  list(filter: { phone?: string; conversation?: string } = {}): SimMessage[] {
    return [...this.messages.values()].filter(
      (m) =>
        (filter.phone === undefined || m.msisdn === filter.phone) &&
        (filter.conversation === undefined || m.conversation === filter.conversation),
    );
  }

  /** Messages whose id is `messageId` (the same id may exist under several agents). */
  findById(messageId: string): SimMessage[] {
    return [...this.messages.values()].filter((m) => m.messageId === messageId);
  }

  /** A new agent message the platform accepted: starts its delivery and TTL clocks. */
  accept(key: string, message: SimMessage): void {
    this.messages.set(key, message);
    this.timers.set(key, {});
    if (message.expireAt) {
      const ms = Math.max(0, Date.parse(message.expireAt) - Date.now());
      this.timersOf(key).ttl = this.options.timers.after(ms, () => this.expire(key));
    }
    if (this.profile(deviceId(message)).online) this.scheduleDelivery(key);
  }

  /** RBM revoke: succeeds only while the message is still waiting for delivery. */
  revoke(key: string): boolean {
    const message = this.messages.get(key);
    if (!message || message.status !== 'pending') return false;
    message.status = 'revoked';
    this.cancelAll(key);
    return true;
  }

  /** Delivers now (manual control or the delivery timer). False if not pending. */
  deliver(key: string): boolean {
    const message = this.messages.get(key);
    if (!message || message.status !== 'pending') return false;
    message.status = 'delivered';
    message.deliveredAt = new Date().toISOString();
    this.cancelAll(key);
    this.receipt(message, 'DELIVERED');
    const readAfter = this.profile(deviceId(message)).readAfterMs;
    if (readAfter !== null) this.timersOf(key).read = this.options.timers.after(readAfter, () => this.read(key));
    return true;
  }

  /** Marks read now (manual control or the read timer). False unless delivered. */
  read(key: string): boolean {
    const message = this.messages.get(key);
    if (!message || message.status !== 'delivered') return false;
    message.status = 'read';
    message.readAt = new Date().toISOString();
    this.cancelAll(key);
    this.receipt(message, 'READ');
    return true;
  }

  reset(defaults: DeviceProfile): void {
    for (const key of this.timers.keys()) this.cancelAll(key);
    this.timers.clear();
    this.messages.clear();
    this.overrides.clear();
    this.defaults = { ...defaults };
  }

  private timersOf(key: string) {
    let t = this.timers.get(key);
    if (!t) this.timers.set(key, (t = {}));
    return t;
  }

  private cancelAll(key: string): void {
    const t = this.timers.get(key);
    if (!t) return;
    t.deliver?.();
    t.read?.();
    t.ttl?.();
    this.timers.set(key, {});
  }

  private scheduleDelivery(key: string): void {
    const message = this.messages.get(key);
    if (!message || message.status !== 'pending') return;
    const after = this.profile(deviceId(message)).deliverAfterMs;
    if (after === null) return;
    this.timersOf(key).deliver?.();
    this.timersOf(key).deliver = this.options.timers.after(after, () => this.deliver(key));
  }

  private onlineChanged(id: string, online: boolean): void {
    for (const [key, message] of this.messages) {
      if (deviceId(message) !== id || message.status !== 'pending') continue;
      if (online) this.scheduleDelivery(key);
      else {
        this.timersOf(key).deliver?.();
        delete this.timersOf(key).deliver;
      }
    }
  }

  private expire(key: string): void {
    const message = this.messages.get(key);
    if (!message || message.status !== 'pending' || message.channel !== 'rbm' || !message.agentId || !message.msisdn)
      return;
    const revoked = this.profile(deviceId(message)).ttlOutcome === 'revoked';
    if (revoked) {
      message.status = 'expired';
      this.cancelAll(key);
    }
    // With REVOKE_FAILED the message stays pending: it may still be delivered later, as on RBM.
    const eventType = revoked ? 'TTL_EXPIRATION_REVOKED' : 'TTL_EXPIRATION_REVOKE_FAILED';
    this.options.webhooks.rbm(
      message.agentId,
      rbmServerEvent(message.agentId, message.msisdn, eventType, this.options.random.uuid(), message.messageId),
      {
        phone: message.msisdn,
        conversation: message.conversation,
      },
    );
  }

  private receipt(message: SimMessage, type: 'DELIVERED' | 'READ'): void {
    const { webhooks, random, bmAgent } = this.options;
    if (message.channel === 'rbm' && message.agentId && message.msisdn) {
      webhooks.rbm(
        message.agentId,
        rbmUserEvent(message.agentId, message.msisdn, type, random.uuid(), message.messageId),
        { phone: message.msisdn, conversation: message.conversation },
      );
    } else if (message.channel === 'bm' && message.conversationId) {
      const env = { agent: bmAgent, conversationId: message.conversationId, requestId: random.uuid() };
      webhooks.bm(bmAgent, bmReceipts(env, [{ messageId: message.messageId, receiptType: type }]), {
        conversation: message.conversation,
      });
    }
  }
}

function normalizePatch(patch: DeviceProfilePatch): Partial<DeviceProfile> {
  const parsed = deviceProfilePatchSchema.parse(patch);
  const { rcs, ...rest } = parsed;
  return { ...rest, ...(rcs !== undefined && rest.reachable === undefined ? { reachable: rcs } : {}) };
}
