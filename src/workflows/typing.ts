import { msToNumber } from '@temporalio/common/lib/time';
import { CancellationScope, isCancellation, sleep, log } from '@temporalio/workflow';
import { type Representative } from '../domain/outbound';
import { typingActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';

/**
 * Keeps the channel's typing indicator alive while automation or a human composes: RBM's IS_TYPING
 * fades after about 20 s, so it is re-sent every `keepAlive`. Stopping sends TYPING_STOPPED on
 * Business Messages; on RBM the next agent message clears the indicator by itself. With a
 * `maxDuration` (issue 11 #9) the keep-alive ends by itself that long after the desk last said
 * typing=true, so a desk that never says typing=false does not keep it going for ever.
 */
export class TypingIndicator {
  private scope: CancellationScope | undefined;
  private loop: Promise<void> | undefined;
  private representative: Representative = { type: 'BOT' };
  /** Workflow time of the desk's last typing=true. */
  private refreshedAt = 0;

  constructor(
    private readonly state: ConversationState,
    private readonly keepAlive: string | number,
    private readonly maxDuration?: string | number,
  ) {}

  get active(): boolean {
    return this.scope !== undefined;
  }

  start(representative: Representative): void {
    this.representative = representative;
    this.refreshedAt = Date.now();
    if (this.scope) return;
    const scope = new CancellationScope();
    this.scope = scope;
    const maxMs = this.maxDuration !== undefined ? msToNumber(this.maxDuration) : undefined;
    this.loop = scope.run(async () => {
      try {
        for (;;) {
          if (maxMs !== undefined && Date.now() - this.refreshedAt >= maxMs) break;
          await this.send('start');
          await sleep(this.keepAlive);
        }
      } catch (err) {
        if (!isCancellation(err)) throw err;
        return;
      }
      // Ended by the maximum: the indicator fades by itself on RBM; Business Messages is told.
      if (this.scope === scope) {
        this.scope = undefined;
        if (this.state.channel === 'bm') await this.send('stop').catch(() => undefined);
      }
    });
  }

  /** Stops the keep-alive; `notify` false when a message is about to go out (it clears the indicator). */
  async stop(notify: boolean): Promise<void> {
    const scope = this.scope;
    if (!scope) return;
    this.scope = undefined;
    scope.cancel();
    await this.loop;
    if (notify && this.state.channel === 'bm') await this.send('stop');
  }

  private async send(typing: 'start' | 'stop'): Promise<void> {
    try {
      await typingActivities.sendTyping({ conversationKey: this.state.key, eventId: this.state.nextEventId(`typing-${typing}`), typing, representative: this.representative });
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('typing indicator not delivered', { typing });
    }
  }
}
