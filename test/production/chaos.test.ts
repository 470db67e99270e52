/**
 * The chaos run at production shape (bench/lib/chaos.ts with `temporal: 'postgres'`): its own
 * deployment — the real Temporal server on a private PostgreSQL — two worker processes and two
 * API processes (the users' and the phones' webhooks alternate between them), a worker SIGKILLed
 * twice inside a held platform call, the Temporal server restarted while webhooks arrive,
 * PostgreSQL restarted under the running server, 20 % platform errors and 30 % of all webhooks
 * posted twice. Every fault is triggered at a point the run observes, never after a sleep; the
 * counts are printed (`npm run chaos -- --temporal postgres` is the full-size run).
 */
import { type ChaosReport, describeChaos, runChaos } from '../../bench/lib/chaos';
import { workflowBundle } from '../helpers/temporal';

describe('production chaos: PostgreSQL-backed server, two workers, two APIs', () => {
  let report: ChaosReport;

  beforeAll(async () => {
    report = await runChaos({
      conversations: 16,
      exchanges: 1,
      concurrency: 4,
      faultRate: 0.2,
      duplicateRate: 0.3,
      seed: 11,
      temporal: 'postgres',
      workers: 2,
      apis: 2,
      workflowBundlePath: workflowBundle().codePath,
      deadlineMs: 240_000,
      log: () => undefined,
    });
    console.log(describeChaos(report));
  }, 360_000);

  test('it ran at production shape, and traffic alternated between the two APIs', () => {
    expect(report.deployment.temporal).toMatch(/^temporal-server 1\.29\.1 on postgres \(PostgreSQL\) 15/);
    expect(report.deployment.workers).toBe(2);
    const byApi = Object.values(report.deployment.userWebhooksByApi ?? {});
    expect(byApi).toHaveLength(2);
    expect(Math.abs((byApi[0] ?? 0) - (byApi[1] ?? 0))).toBeLessThanOrEqual(1);
  });

  test('the faults happened under load', () => {
    expect(report.faults.workerKills).toHaveLength(2);
    for (const kill of report.faults.workerKills) expect(kill.activitiesInFlight).toBeGreaterThanOrEqual(1);
    expect(report.faults.recovery.activityRetriesAfterTimeout).toBeGreaterThanOrEqual(2);
    expect(report.faults.temporalRestart).toBeDefined();
    expect(report.faults.postgresRestart).toBeDefined();
    expect(Object.entries(report.webhooks.non200).filter(([status]) => status !== '200').length).toBeGreaterThan(0);
    expect(Object.values(report.faults.platformFaults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(
      report.faults.duplicatesPosted.userWebhooks + report.faults.duplicatesPosted.receiptWebhooks,
    ).toBeGreaterThan(0);
    expect(report.inbound.signalsCarryingThem).toBeGreaterThan(report.inbound.distinctEvents);
  });

  test('while the Temporal server or PostgreSQL was down the webhooks answered 503 (Retry-After), never 500', () => {
    expect(report.faults.temporalRestart?.refusedWith).toEqual([503]);
    expect(report.faults.postgresRestart?.refusedWith).toEqual([503]);
    expect(Object.keys(report.webhooks.non200).filter((status) => status !== '503' && status !== 'none')).toEqual([]);
  });

  test('0 lost: every webhook accepted, every inbound event processed, every reply and READ receipt sent', () => {
    expect(report.webhooks.undelivered).toBe(0);
    expect(report.inbound.notProcessed).toBe(0);
    expect(report.inbound.processedOnce).toBe(report.inbound.distinctEvents);
    expect(report.outbound.agentMessages.missing).toBe(0);
    expect(report.outbound.readReceipts.missing).toBe(0);
  });

  test('0 duplicated: each event processed once, one agent message and one READ receipt per question', () => {
    expect(report.inbound.processedMoreThanOnce).toBe(0);
    expect(report.outbound.agentMessages.extraDistinct).toBe(0);
    expect(report.outbound.agentMessages.distinctIds).toBe(report.questions);
    expect(report.outbound.readReceipts.extraDistinct).toBe(0);
    expect(report.outbound.readReceipts.distinctEventIds).toBe(report.questions);
  });

  test('every conversation reached its final state, no workflow task failed, no guarantee was violated', () => {
    expect(report.faults.recovery.workflowTasksFailed).toBe(0);
    expect(report.finalState).toEqual({ conversationsAsExpected: report.conversations, notAsExpected: 0 });
    expect(report.violations).toEqual([]);
  });
});
