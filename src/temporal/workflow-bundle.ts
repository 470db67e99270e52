/**
 * The workflow bundle. Production workers load one built ahead of time (`npm run build` writes
 * dist/workflow-bundle.js), so a worker starts in well under a second instead of running webpack;
 * without one, the worker bundles src/workflows at start (`npm start`, tsx).
 *
 * The prebuilt bundle always contains the OpenTelemetry workflow interceptors: whether tracing is
 * on is decided when the worker starts (OTEL_ENABLED), not when the image is built. With tracing
 * off the interceptors' spans go to a no-op sink (see worker-factory.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BundleOptions, type Logger as SdkLogger, type WorkflowBundlePath, bundleWorkflowCode } from '@temporalio/worker';

/** Where `npm run build` puts the bundle: dist/workflow-bundle.js, next to the compiled worker.js. */
export const DEFAULT_WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

/** The workflows barrel next to this module: dist/workflows in a build, src/workflows under tsx. */
export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows');

/** Workflow interceptor modules of the production bundle (OpenTelemetry: spans for workflow tasks, context to activities). */
export function workflowInterceptorModules(): string[] {
  return [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
}

/** Bundle options shared by the build script and anything that must match it. */
export function productionBundleOptions(workflowsPath: string = WORKFLOWS_PATH, logger?: SdkLogger): BundleOptions {
  return { workflowsPath, workflowInterceptorModules: workflowInterceptorModules(), ...(logger ? { logger } : {}) };
}

/** Bundles the workflows and writes the bundle to `outFile`; returns its size in bytes. */
export async function writeWorkflowBundle(outFile: string, options: BundleOptions = productionBundleOptions()): Promise<number> {
  const { code } = await bundleWorkflowCode(options);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  return Buffer.byteLength(code);
}

/** Which bundle a worker uses, and why (for the start-up log line). */
export type BundleChoice = { kind: 'prebuilt'; bundle: WorkflowBundlePath } | { kind: 'bundle-at-start'; workflowsPath: string };

/**
 * WORKFLOW_BUNDLE_PATH when set (it must exist: a missing file there is a deployment mistake, not
 * a reason to run webpack in production), else the default path if a build put a bundle there,
 * else bundling at start.
 */
export function chooseWorkflowBundle(configured: string | undefined, defaultPath: string = DEFAULT_WORKFLOW_BUNDLE_PATH): BundleChoice {
  if (configured !== undefined) {
    const codePath = path.resolve(configured);
    if (!existsSync(codePath)) throw new Error(`WORKFLOW_BUNDLE_PATH=${configured}: no such file (build it with \`npm run build\`, or unset the variable to bundle at start)`);
    return { kind: 'prebuilt', bundle: { codePath } };
  }
  if (existsSync(defaultPath)) return { kind: 'prebuilt', bundle: { codePath: defaultPath } };
  return { kind: 'bundle-at-start', workflowsPath: WORKFLOWS_PATH };
}
