/**
 * The workflow bundles. Production workers load one built ahead of time (`npm run build` writes
 * both into dist/), so a worker starts in well under a second instead of running webpack; without
 * one, the worker bundles src/workflows at start (`npm start`, tsx).
 *
 * Two bundles, chosen by OTEL_ENABLED when the worker starts:
 * - workflow-bundle.js: the workflows alone (tracing off);
 * - workflow-bundle-tracing.js: the same plus the OpenTelemetry workflow interceptors (spans for
 *   workflow tasks, trace context to activities).
 * The interceptors wrap every workflow task and every outbound call in a span, and their module
 * graph is evaluated in every workflow context: with tracing off they cost about a quarter of the
 * worker's CPU and ~1.8 MB per cached conversation (docs/performance.md) for spans nobody exports.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  type BundleOptions,
  bundleWorkflowCode,
  type Logger as SdkLogger,
  type WorkflowBundlePath,
} from '@temporalio/worker';

/** Where `npm run build` puts the bundle for tracing off: dist/workflow-bundle.js, next to the compiled worker.js. */
export const DEFAULT_WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

/** … and the one for OTEL_ENABLED=true: dist/workflow-bundle-tracing.js. */
export const DEFAULT_TRACING_WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle-tracing.js');

/** The workflows barrel next to this module: dist/workflows in a build, src/workflows under tsx. */
export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows');

/** The OpenTelemetry workflow interceptor module (spans for workflow tasks, context to activities). */
function tracingInterceptorModule(): string {
  return require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
}

/** A piece of every bundle built with tracingInterceptorModule (webpack keeps module paths in development mode, as the SDK's bundler runs it). */
const TRACING_MARKER = 'interceptors-opentelemetry/lib/workflow';

/** Whether bundle code carries the OpenTelemetry workflow interceptors. */
function bundleHasTracing(code: string): boolean {
  return code.includes(TRACING_MARKER);
}

/** Bundle options shared by the build script and anything that must match it: with the tracing interceptors or without. */
export function productionBundleOptions(options: {
  tracing: boolean;
  workflowsPath?: string;
  logger?: SdkLogger;
}): BundleOptions {
  return {
    workflowsPath: options.workflowsPath ?? WORKFLOWS_PATH,
    ...(options.tracing ? { workflowInterceptorModules: [tracingInterceptorModule()] } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
}

/** Bundles the workflows and writes the bundle to `outFile`; returns its size in bytes. */
export async function writeWorkflowBundle(outFile: string, options: BundleOptions): Promise<number> {
  const { code } = await bundleWorkflowCode(options);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  return Buffer.byteLength(code);
}

/** Which bundle a worker uses, and why (for the start-up log line). */
export type BundleChoice =
  | { kind: 'prebuilt'; bundle: WorkflowBundlePath; tracing: boolean; warning?: string }
  | { kind: 'bundle-at-start'; workflowsPath: string };

/** Where chooseWorkflowBundle looks when WORKFLOW_BUNDLE_PATH is unset (tests point them elsewhere). */
export interface DefaultBundlePaths {
  plain: string;
  tracing: string;
}

/**
 * WORKFLOW_BUNDLE_PATH when set (it must exist: a missing file there is a deployment mistake, not
 * a reason to run webpack in production), else the default bundle for the tracing setting if a
 * build put it there, else bundling at start (the OpenTelemetry plugin then adds its interceptors
 * to that bundle itself).
 *
 * A configured bundle without the interceptors while tracing is on would drop every workflow span
 * silently: refused, naming the variable. One with them while tracing is off works (its spans go
 * to a sink that drops them) at their cost: a warning.
 */
export function chooseWorkflowBundle(
  configured: string | undefined,
  tracing: boolean,
  defaults: DefaultBundlePaths = { plain: DEFAULT_WORKFLOW_BUNDLE_PATH, tracing: DEFAULT_TRACING_WORKFLOW_BUNDLE_PATH },
): BundleChoice {
  if (configured !== undefined) {
    const codePath = path.resolve(configured);
    if (!existsSync(codePath))
      throw new Error(
        `WORKFLOW_BUNDLE_PATH=${configured}: no such file (build it with \`npm run build\`, or unset the variable to bundle at start)`,
      );
    const hasTracing = bundleHasTracing(readFileSync(codePath, 'utf8'));
    if (tracing && !hasTracing)
      throw new Error(
        `WORKFLOW_BUNDLE_PATH=${configured}: OTEL_ENABLED=true needs the bundle with the OpenTelemetry workflow interceptors (workflow-bundle-tracing.js of \`npm run build\`)`,
      );
    const warning =
      !tracing && hasTracing
        ? 'the workflow bundle carries the OpenTelemetry workflow interceptors while tracing is off: they cost worker CPU and memory for nothing (use workflow-bundle.js)'
        : undefined;
    return { kind: 'prebuilt', bundle: { codePath }, tracing: hasTracing, ...(warning ? { warning } : {}) };
  }
  const defaultPath = tracing ? defaults.tracing : defaults.plain;
  if (existsSync(defaultPath)) return { kind: 'prebuilt', bundle: { codePath: defaultPath }, tracing };
  return { kind: 'bundle-at-start', workflowsPath: WORKFLOWS_PATH };
}
