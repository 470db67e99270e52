/**
 * The short chaos run inside `npm test` (bench/lib/chaos.ts; `npm run chaos` is the long one):
 * real processes — a dev server on a SQLite file, the simulator, `node --import tsx src/worker.ts`
 * workers, `src/server.ts` — with the worker SIGKILLed twice while the platform holds one of its
 * calls, the dev server restarted once on its data file while webhooks arrive, 20 % of the
 * platform's answers 5xx / 429, and 30 % of all webhooks posted twice. Every fault is triggered at a
 * point the run observes (half of a wave's questions marked READ, the held call arrived, a webhook
 * refused while Temporal is down), never after a sleep.
 *
 * Its wall time is dominated by the activities of the killed workers: Temporal retries them only
 * after their 30 s start-to-close timeout (no heartbeats on sub-second calls), and by the workflow
 * tasks the killed workers had taken (10 s task timeout).
 */
import { type ChaosReport, describeChaos, runChaos } from '../../bench/lib/chaos';
import { workflowBundle } from '../helpers/temporal';

describe('chaos: workers killed, dev server restarted, platform errors, webhooks posted twice', () => {
  let report: ChaosReport;

  beforeAll(async () => {
    report = await runChaos({
      conversations: 12,
      exchanges: 1,
      concurrency: 4,
      faultRate: 0.2,
      duplicateRate: 0.3,
      seed: 7,
      workflowBundlePath: workflowBundle().codePath,
      deadlineMs: 150_000,
      log: () => undefined,
    });
    // The counts, for whoever reads the test output.
    console.log(describeChaos(report));
  }, 240_000);

  test('the faults happened under load', () => {
    expect(report.faults.workerKills).toHaveLength(2);
    // Each kill landed while the platform still held the call, so it (not the hold) ended the attempt.
    expect(report.faults.workerKills.map((k) => k.heldCallCutShort)).toEqual([true, true]);
    // Each kill cut an activity short inside a held platform call: Temporal retried it after its timeout.
    expect(report.faults.recovery.activityRetriesAfterTimeout).toBeGreaterThanOrEqual(2);
    expect(report.faults.temporalRestart).toBeDefined();
    // Webhooks arrived while Temporal was down and were refused (then retried), not lost.
    expect(report.webhooks.non200['503']).toBeGreaterThan(0);
    expect(Object.values(report.faults.platformFaults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(
      report.faults.duplicatesPosted.userWebhooks + report.faults.duplicatesPosted.receiptWebhooks,
    ).toBeGreaterThan(0);
    expect(report.inbound.signalsCarryingThem).toBeGreaterThan(report.inbound.distinctEvents);
  });

  test('nothing was lost: every webhook accepted, every inbound event processed', () => {
    expect(report.webhooks.undelivered).toBe(0);
    expect(report.inbound.notProcessed).toBe(0);
    expect(report.inbound.processedOnce).toBe(report.inbound.distinctEvents);
    expect(report.outbound.agentMessages.missing).toBe(0);
    expect(report.outbound.readReceipts.missing).toBe(0);
  });

  test('nothing was duplicated: each event processed once, one agent message and one READ receipt per question', () => {
    expect(report.inbound.processedMoreThanOnce).toBe(0);
    expect(report.outbound.agentMessages.extraDistinct).toBe(0);
    expect(report.outbound.agentMessages.distinctIds).toBe(report.questions);
    expect(report.outbound.readReceipts.extraDistinct).toBe(0);
    expect(report.outbound.readReceipts.distinctEventIds).toBe(report.questions);
  });

  test('every conversation reached its final state, and no guarantee was violated', () => {
    expect(report.finalState).toEqual({ conversationsAsExpected: report.conversations, notAsExpected: 0 });
    expect(report.violations).toEqual([]);
  });
});
