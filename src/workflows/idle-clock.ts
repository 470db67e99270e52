import { CancellationScope, sleep } from '@temporalio/workflow';

import { type ConversationState } from './conversation-state';

/**
 * One durable timer for a deadline that moves: moving the deadline costs nothing; the timer sleeps
 * until the deadline it reads and, when it wakes before the (moved) deadline, sleeps again for the
 * rest. So a deadline pushed back by every message needs one timer per period, not one per message.
 */
export class MovableDeadline {
  private armed = false;

  /**
   * @param deadline The deadline now (workflow ms), or undefined when there is none.
   * @param onExpire Called once the deadline passed with nothing moving it.
   */
  constructor(
    private readonly deadline: () => number | undefined,
    private readonly onExpire: () => void,
  ) {}

  /** Makes sure the timer runs (call after moving the deadline). */
  arm(): void {
    if (this.armed) return;
    this.armed = true;
    // The timer belongs to the conversation, not to the handler that happened to move the deadline.
    void CancellationScope.nonCancellable(async () => {
      for (;;) {
        const at = this.deadline();
        if (at === undefined) break;
        const remaining = at - Date.now();
        if (remaining <= 0) {
          this.onExpire();
          break;
        }
        await sleep(remaining);
      }
      this.armed = false;
    });
  }
}

/**
 * The conversation's one idle deadline (issue 11): a timestamp in the state that every user
 * message, live-agent request and operator action moves forward, watched by one MovableDeadline.
 */
export class IdleClock {
  private readonly timer: MovableDeadline;
  /** True once the deadline passed with nothing moving it. */
  expired = false;

  constructor(
    private readonly state: ConversationState,
    private readonly idleMs: number,
  ) {
    this.timer = new MovableDeadline(
      () => this.state.idleDeadlineMs,
      () => {
        this.expired = true;
      },
    );
  }

  /** Something happened: the deadline is now + the idle period. */
  touch(): void {
    this.state.idleDeadlineMs = Date.now() + this.idleMs;
    this.expired = false;
    this.timer.arm();
  }

  /** At the start of an active run: keeps the deadline carried from the previous run, or starts one. */
  resume(): void {
    if (this.state.idleDeadlineMs === undefined) this.touch();
    else this.timer.arm();
  }
}
