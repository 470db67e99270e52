/**
 * Build step after `tsc` (see `npm run build`): bundles the compiled workflows twice, next to this
 * file: workflow-bundle.js (tracing off) and workflow-bundle-tracing.js (with the OpenTelemetry
 * workflow interceptors, for OTEL_ENABLED=true). The worker loads one of them instead of running
 * webpack at start. A folder as the first argument writes both there instead.
 */
import path from 'node:path';

import { DefaultLogger } from '@temporalio/worker';

import {
  DEFAULT_TRACING_WORKFLOW_BUNDLE_PATH,
  DEFAULT_WORKFLOW_BUNDLE_PATH,
  productionBundleOptions,
  writeWorkflowBundle,
} from './temporal/workflow-bundle';

async function main(): Promise<void> {
  const dir = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  const logger = new DefaultLogger('WARN');
  for (const [tracing, defaultFile] of [
    [false, DEFAULT_WORKFLOW_BUNDLE_PATH],
    [true, DEFAULT_TRACING_WORKFLOW_BUNDLE_PATH],
  ] as const) {
    const outFile = dir ? path.join(dir, path.basename(defaultFile)) : defaultFile;
    const bytes = await writeWorkflowBundle(outFile, productionBundleOptions({ tracing, logger }));
    console.log(
      `workflow bundle written: ${outFile} (${Math.round(bytes / 1024)} KiB${tracing ? ', with the OpenTelemetry workflow interceptors' : ''})`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
