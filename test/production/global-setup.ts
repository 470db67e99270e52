import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { ProductionTemporal } from '../../bench/lib/production-temporal';
import { projectRoot } from '../../src/temporal/binaries';
import { TEST_BUNDLE_PATH } from '../helpers/global-setup';

/**
 * `npm run test:production`'s global setup: the workflow bundle (as `npm test` builds it) and one
 * production deployment — the real Temporal server on a private PostgreSQL in .data/production/,
 * SQL visibility, compose's dynamic config, the namespace and search attributes — that the
 * end-to-end scenarios reach through SWITCHBOARD_TEST_TEMPORAL_ADDRESS, as they reach the dev
 * server under `npm test`.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const [bundle, deployment] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: path.join(projectRoot, 'src', 'workflows'), logger: new DefaultLogger('WARN') }),
    ProductionTemporal.start({ dir: path.join(projectRoot, '.data', 'production', `e2e-${process.pid}`) }),
  ]);
  mkdirSync(path.dirname(TEST_BUNDLE_PATH), { recursive: true });
  writeFileSync(TEST_BUNDLE_PATH, bundle.code);
  (globalThis as { __switchboardProduction?: ProductionTemporal }).__switchboardProduction = deployment;
  process.env.SWITCHBOARD_TEST_TEMPORAL_ADDRESS = deployment.address;
  process.env.SWITCHBOARD_TEST_WORKFLOW_BUNDLE = TEST_BUNDLE_PATH;
  console.log(`\nproduction deployment: temporal-server ${deployment.binaries.version} on ${deployment.binaries.postgresVersion} at ${deployment.address}, up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
