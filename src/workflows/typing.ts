import { msToNumber } from '@temporalio/common/lib/time';
import { CancellationScope, isCancellation, log, sleep } from '@temporalio/workflow';

import { type Representative } from '../domain/outbound';
import { typingActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';
import { type AgentTypingSnapshot } from './definitions';

/**
 * Keeps the channel's typing indicator alive while automation or a human composes: RBM's IS_TYPING
 * fades after about 20 s, so it is re-sent every `keepAlive`. Stopping sends TYPING_STOPPED on
 * Business Messages; on RBM the next agent message clears the indicator by itself. With a
 * `maxDuration` the keep-alive ends by itself that long after the desk last said typing=true, so a
 * desk that never says typing=false does not keep it going for ever.
 *
 * With `settled` (patch IN_FLIGHT_BEFORE_CONTINUE_AS_NEW) an indicator activity, once started, runs
 * to its end: stopping cancels only the wait between two of them, `sending` tells continue-as-new
 * to wait, and a keep-alive still running is carried into the next run (state.agentTyping) instead
 * of being dropped with the run.
 */
export class TypingIndicator {
  private scope: CancellationScope | undefined;
  private loop: Promise<void> | undefined;
  private representative: Representative = { type: 'BOT' };
  /** Workflow time of the desk's last typing=true. */
  private refreshedAt = 0;
  /** Indicator activities running now. */
  private running = 0;

  constructor(
    private readonly state: ConversationState,
    private readonly keepAlive: string | number,
    private readonly maxDuration?: string | number,
    private readonly settled = false,
  ) {}

  get active(): boolean {
    return this.scope !== undefined;
  }

  /** Indicator activities running now: continue-as-new waits until there are none. */
  get sending(): number {
    return this.running;
  }

  start(representative: Representative): void {
    this.representative = representative;
    this.refreshedAt = Date.now();
    this.remember();
    if (this.scope) return;
    this.run(0);
  }

  /** A new run picks up the keep-alive the previous one carried, if it has time left. */
  resume(): void {
    const carried = this.settled ? this.state.agentTyping : undefined;
    if (!carried || this.scope) return;
    this.representative = carried.representative;
    this.refreshedAt = carried.refreshedAtMs;
    const maxMs = this.maxDuration !== undefined ? msToNumber(this.maxDuration) : undefined;
    if (maxMs !== undefined && Date.now() - this.refreshedAt >= maxMs) {
      this.state.agentTyping = undefined;
      return;
    }
    this.run(Math.max(0, msToNumber(this.keepAlive) - (Date.now() - carried.lastSentAtMs)));
  }

  private run(firstWaitMs: number): void {
    const scope = new CancellationScope();
    this.scope = scope;
    const maxMs = this.maxDuration !== undefined ? msToNumber(this.maxDuration) : undefined;
    this.loop = scope.run(async () => {
      try {
        if (firstWaitMs > 0) await sleep(firstWaitMs);
        for (;;) {
          if (maxMs !== undefined && Date.now() - this.refreshedAt >= maxMs) break;
          if (this.settled) {
            await CancellationScope.nonCancellable(() => this.send('start'));
            if (this.scope === scope) this.remember(Date.now());
          } else {
            await this.send('start');
          }
          await sleep(this.keepAlive);
        }
      } catch (err) {
        if (!isCancellation(err)) throw err;
        return;
      }
      // Ended by the maximum: the indicator fades by itself on RBM; Business Messages is told.
      if (this.scope === scope) {
        this.scope = undefined;
        if (this.settled) this.state.agentTyping = undefined;
        if (this.state.channel === 'bm') await this.send('stop').catch(() => undefined);
      }
    });
  }

  /** Stops the keep-alive; `notify` false when a message is about to go out (it clears the indicator). */
  async stop(notify: boolean): Promise<void> {
    const scope = this.scope;
    if (!scope) return;
    this.scope = undefined;
    if (this.settled) this.state.agentTyping = undefined;
    scope.cancel();
    await this.loop;
    if (notify && this.state.channel === 'bm') await this.send('stop');
  }

  /** What the next run needs to carry the keep-alive on (settled runs only). */
  private remember(lastSentAtMs?: number): void {
    if (!this.settled) return;
    const previous: AgentTypingSnapshot | undefined = this.state.agentTyping;
    this.state.agentTyping = {
      representative: this.representative,
      refreshedAtMs: this.refreshedAt,
      lastSentAtMs: lastSentAtMs ?? previous?.lastSentAtMs ?? 0,
    };
  }

  private async send(typing: 'start' | 'stop'): Promise<void> {
    this.running++;
    try {
      await typingActivities.sendTyping({
        conversationKey: this.state.key,
        eventId: this.state.nextEventId(`typing-${typing}`),
        typing,
        representative: this.representative,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('typing indicator not delivered', { typing });
    } finally {
      this.running--;
    }
  }
}
