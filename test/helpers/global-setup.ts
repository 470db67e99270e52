import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

import { projectRoot, readTemporalBinaries } from '../../dev/binaries';
import { DevServer } from '../../dev/dev-server';
import { freePort } from './ports';

export const TEST_BUNDLE_PATH = path.join(projectRoot, '.tools', 'test-bundle', 'workflow-bundle.js');

/**
 * Runs once per `jest` run: bundles the workflow code (webpack cannot run inside Jest's module
 * sandbox, so test files load this bundle) and starts one dev server for every end-to-end test file.
 * Both reach the test workers through the environment.
 */
/** A free port can be taken between our probe and the server's bind: try a fresh one, a few times. */
async function startDevServer(cliPath: string): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await DevServer.start({ cliPath, port: await freePort() });
    } catch (err) {
      if (attempt >= 3) throw err;
      console.warn(
        `dev server did not start (attempt ${attempt}): ${(err as Error).message}; retrying on another port`,
      );
    }
  }
}

export default async function globalSetup(): Promise<void> {
  const binaries = readTemporalBinaries();
  const [bundle, server] = await Promise.all([
    bundleWorkflowCode({
      workflowsPath: path.join(projectRoot, 'src', 'workflows'),
      logger: new DefaultLogger('WARN'),
    }),
    startDevServer(binaries.cli),
  ]);
  mkdirSync(path.dirname(TEST_BUNDLE_PATH), { recursive: true });
  writeFileSync(TEST_BUNDLE_PATH, bundle.code);
  (globalThis as { __switchboardDevServer?: DevServer }).__switchboardDevServer = server;
  process.env.SWITCHBOARD_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.SWITCHBOARD_TEST_WORKFLOW_BUNDLE = TEST_BUNDLE_PATH;
}
