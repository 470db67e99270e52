/**
 * The users' phones as the benchmark plays them: each agent message the simulator accepted gets a
 * DELIVERED and then a READ, built with the simulator's own payload builder (rbmUserEvent) and
 * sent through the phase's sender (signed webhooks in (c), signalWithStart in (b)) from up to
 * `concurrency` lanes.
 *
 * Why not the simulator's own phones: the simulator posts its webhooks one at a time, in order
 * (one queue per channel, as RBM's partner queue behaves for a single conversation). Under load
 * that single queue caps receipts at one per acknowledgement latency (~25/s here), and a drain
 * would measure the simulator instead of Switchboard. Google delivers webhooks with many in flight.
 */
import { pollUntil } from '../../dev/poll';
import { rbmUserEvent } from '../../dev/simulator/payloads';
import { SeededRandom } from '../../dev/simulator/rng';
import { agentMessageIdOf, CallCollector, type SimClient } from './sim-client';
import { type BenchConversation, type Sample } from './traffic';

/** One receipt to send: the conversation, the decoded `message.data`, and its eventId. */
export interface Receipt {
  conversation: BenchConversation;
  kind: 'DELIVERED' | 'READ';
  id: string;
  data: Record<string, unknown>;
}

/** Watches the simulator's call log for accepted agent messages and answers each with DELIVERED, then READ. */
export class PhoneEmulator {
  readonly samples: Sample[] = [];
  private readonly collector: CallCollector;
  private readonly seen = new Set<string>();
  private readonly queue: Receipt[][] = [];
  private readonly random: SeededRandom;
  private running = false;
  private loops: Promise<void>[] = [];
  private poller: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  private readonly completedByPhone = new Map<string, number>();
  private readonly byPhone: Map<string, BenchConversation>;
  /** Agent messages whose READ was acknowledged. */
  completed = 0;

  constructor(
    sim: SimClient,
    private readonly options: {
      agentId: string;
      conversations: readonly BenchConversation[];
      send: (receipt: Receipt) => Promise<Sample>;
      concurrency: number;
      seed: number;
    },
  ) {
    this.collector = new CallCollector(sim, 300, 'inbound');
    this.random = new SeededRandom(options.seed);
    this.byPhone = new Map(options.conversations.map((c) => [c.phone, c]));
  }

  /** Starts watching the simulator for accepted agent messages of these conversations. */
  start(): this {
    this.running = true;
    this.poller = (async () => {
      while (this.running) {
        await this.poll();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    this.loops = Array.from({ length: this.options.concurrency }, () => this.lane());
    return this;
  }

  private async poll(): Promise<void> {
    for (const call of await this.collector.poll()) {
      const messageId = agentMessageIdOf(call);
      // Taken by the platform: answered 200, first time for this id (a retried duplicate is answered 200 too).
      if (!messageId || call.status !== 200 || this.seen.has(messageId) || !call.phone) continue;
      const conversation = this.byPhone.get(call.phone);
      if (!conversation) continue;
      this.seen.add(messageId);
      const receipt = (kind: 'DELIVERED' | 'READ'): Receipt => {
        const id = `${kind.toLowerCase()}-${this.random.uuid()}`;
        return {
          conversation,
          kind,
          id,
          data: rbmUserEvent(this.options.agentId, conversation.phone, kind, id, messageId),
        };
      };
      this.queue.push([receipt('DELIVERED'), receipt('READ')]);
      this.wakeAll();
    }
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Agent messages of this phone whose READ was acknowledged. */
  completedFor(phone: string): number {
    return this.completedByPhone.get(phone) ?? 0;
  }

  private async lane(): Promise<void> {
    for (;;) {
      const next = this.queue.shift();
      if (!next) {
        if (!this.running) return;
        await new Promise<void>((resolve) => {
          this.waiters.push(resolve);
          setTimeout(resolve, 100);
        });
        continue;
      }
      // A message's DELIVERED before its READ, as a phone sends them.
      for (const r of next) this.samples.push(await this.options.send(r));
      this.completed++;
      const phone = next[0]?.conversation.phone;
      if (phone) this.completedByPhone.set(phone, (this.completedByPhone.get(phone) ?? 0) + 1);
    }
  }

  /** Resolves once `messages` agent messages had both receipts acknowledged (or rejects at the deadline). */
  async waitFor(messages: number, timeoutMs: number): Promise<void> {
    await pollUntil({
      what: `${messages} agent messages with both receipts acknowledged`,
      read: () => this.completed,
      done: (completed) => completed >= messages,
      timeoutMs,
      intervalMs: 20,
    });
  }

  /** Stops polling; lanes finish what is queued. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeAll();
    await this.poller;
    await Promise.all(this.loops);
  }
}
