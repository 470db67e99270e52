/**
 * A rolling upgrade with Worker Versioning on the production deployment (the real Temporal server
 * on PostgreSQL that global setup started): conversations opened on workers of build A — idle
 * timers pending, an operator message between SENT and DELIVERED with its deliverWithin timer,
 * handoffs waiting on their SLA — while workers of build B (the handoff-sla-escalation change,
 * behind patched()) replace them one at a time and traffic continues (bench/lib/upgrade.ts). The
 * outcome is printed; the "Rolling upgrades" section of docs/deployment.md is the procedure it
 * follows.
 */
import { BenchStack } from '../../bench/lib/stack';
import { BUILD_A, BUILD_B, describeUpgrade, runRollingUpgrade, type UpgradeReport } from '../../bench/lib/upgrade';
import { upgradeBundlePath } from '../../bench/lib/upgrade-bundles';
import { devServerAddress } from '../helpers/temporal';

function bundles() {
  const dir = process.env.SWITCHBOARD_TEST_UPGRADE_BUNDLES;
  if (!dir)
    throw new Error(
      'SWITCHBOARD_TEST_UPGRADE_BUNDLES is not set: run through `npm run test:production` (its global setup builds the bundles)',
    );
  return {
    a: upgradeBundlePath(dir, 'a'),
    b: upgradeBundlePath(dir, 'b'),
    unpatched: upgradeBundlePath(dir, 'unpatched'),
  };
}

describe('rolling upgrade A → B with Worker Versioning, one worker at a time, traffic flowing', () => {
  let report: UpgradeReport;

  beforeAll(async () => {
    const log = (line: string) => process.stderr.write(`[upgrade] ${line}\n`);
    const stack = await BenchStack.start({
      label: 'upgrade',
      persistence: 'postgres',
      temporalAddress: devServerAddress(),
      apis: 2,
      agentDesk: true,
      simulator: { deliverAfterMs: 100, readAfterMs: 100, webhookMaxAttempts: 30, webhookRetryBaseMs: 200, seed: 7 },
      workflowBundlePath: bundles().b,
      log,
    });
    try {
      await stack.startApi('switchboard', {}, 0);
      await stack.startApi('switchboard', {}, 1);
      report = await runRollingUpgrade({ stack, bundles: bundles(), deadlineMs: 600_000, log });
    } finally {
      await stack.stop();
    }
    console.log(describeUpgrade(report));
  }, 720_000);

  test('no workflow task failed and nothing was non-deterministic, on the server or in the workers', () => {
    expect(report.workflowTasks.failed).toBe(0);
    expect(report.nondeterminismInLogs).toEqual([]);
    // Both builds did work: the upgrade happened under load.
    expect(report.workflowTasks.completedByBuild[BUILD_A]).toBeGreaterThan(0);
    expect(report.workflowTasks.completedByBuild[BUILD_B]).toBeGreaterThan(0);
    expect(report.conversations.openedDuringUpgrade).toBeGreaterThanOrEqual(10);
  });

  test('every conversation finished as expected, and now runs on build B (AUTO_UPGRADE)', () => {
    expect(report.conversations.notAsExpected).toBe(0);
    expect(report.finalBuilds).toEqual({ [BUILD_B]: report.conversations.total });
    expect(report.behaviors).toEqual({ VERSIONING_BEHAVIOR_AUTO_UPGRADE: report.conversations.total });
    expect(report.deploymentAfter.currentBuild).toBe(BUILD_B);
  });

  test('the message SENT on A was DELIVERED and READ through B, with no SMS fallback', () => {
    expect(report.pendingDelivery).toEqual({ sentOn: BUILD_A, deliveredOn: BUILD_B, status: 'READ', sms: 0 });
  });

  test('the change took effect where its point came after the upgrade, and only there', () => {
    expect(report.handoffExpiredOnA).toMatchObject({
      slaExpiredOn: BUILD_A,
      holdingMessages: 1,
      escalated: false,
      patchMarker: false,
      finalStatus: 'automation',
    });
    expect(report.handoffExpiredOnA.deskNotifications).not.toContain('sla_expired');
    expect(report.handoffExpiringOnB).toMatchObject({
      slaExpiredOn: BUILD_B,
      holdingMessages: 1,
      escalated: true,
      patchMarker: true,
      finalStatus: 'waiting_for_agent',
    });
    expect(report.handoffExpiringOnB.deskNotifications.filter((reason) => reason === 'sla_expired')).toHaveLength(1);
  });

  test('B replays both handoffs; the same change without patched() cannot replay the one that expired on A', () => {
    expect(report.replay.expiredOnAOnB).toBe('deterministic');
    expect(report.replay.expiringOnBOnB).toBe('deterministic');
    expect(report.replay.expiredOnAUnpatched).toMatch(/Determinism/i);
  });

  test('no guarantee was violated', () => {
    expect(report.violations).toEqual([]);
  });
});
