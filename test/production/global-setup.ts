import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { DefaultLogger } from '@temporalio/worker';

import { ProductionTemporal } from '../../bench/lib/production-temporal';
import { writeUpgradeBundles } from '../../bench/lib/upgrade-bundles';
import { projectRoot } from '../../dev/binaries';
import { TEST_BUNDLE_PATH } from '../helpers/global-setup';

/** Where the rolling upgrade's bundles are written (test/production/rolling-upgrade.test.ts reads SWITCHBOARD_TEST_UPGRADE_BUNDLES). */
const UPGRADE_BUNDLES_DIR = path.join(path.dirname(TEST_BUNDLE_PATH), 'upgrade');

/**
 * `npm run test:production`'s global setup: the workflow bundles and one production deployment —
 * the real Temporal server on a private PostgreSQL in .data/production/, SQL visibility, compose's
 * dynamic config, the namespace and search attributes — that the end-to-end scenarios reach
 * through SWITCHBOARD_TEST_TEMPORAL_ADDRESS, as they reach the dev server under `npm test`.
 * Bundles: the rolling upgrade's builds A, B and the unpatched change (bench/lib/upgrade-bundles.ts);
 * B, the production bundle, is also every other test's bundle.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  mkdirSync(UPGRADE_BUNDLES_DIR, { recursive: true });
  const [bundles, deployment] = await Promise.all([
    writeUpgradeBundles(UPGRADE_BUNDLES_DIR, new DefaultLogger('WARN')),
    ProductionTemporal.start({ dir: path.join(projectRoot, '.data', 'production', `e2e-${process.pid}`) }),
  ]);
  copyFileSync(bundles.b, TEST_BUNDLE_PATH);
  (globalThis as { __switchboardProduction?: ProductionTemporal }).__switchboardProduction = deployment;
  process.env.SWITCHBOARD_TEST_TEMPORAL_ADDRESS = deployment.address;
  process.env.SWITCHBOARD_TEST_WORKFLOW_BUNDLE = TEST_BUNDLE_PATH;
  process.env.SWITCHBOARD_TEST_UPGRADE_BUNDLES = UPGRADE_BUNDLES_DIR;
  console.log(
    `\nproduction deployment: temporal-server ${deployment.binaries.version} on ${deployment.binaries.postgresVersion} at ${deployment.address}, up in ${((Date.now() - started) / 1000).toFixed(1)} s (with the workflow bundles)`,
  );
}
