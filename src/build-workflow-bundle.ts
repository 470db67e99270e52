/**
 * Build step after `tsc` (see `npm run build`): bundles the compiled workflows into
 * workflow-bundle.js next to this file (dist/workflow-bundle.js), or into the path given as the
 * first argument. The worker loads that file instead of running webpack at start.
 */
import path from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import { DEFAULT_WORKFLOW_BUNDLE_PATH, productionBundleOptions, writeWorkflowBundle } from './temporal/workflow-bundle';

async function main(): Promise<void> {
  const outFile = path.resolve(process.argv[2] ?? DEFAULT_WORKFLOW_BUNDLE_PATH);
  const bytes = await writeWorkflowBundle(outFile, productionBundleOptions(undefined, new DefaultLogger('WARN')));
  console.log(`workflow bundle written: ${outFile} (${Math.round(bytes / 1024)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
