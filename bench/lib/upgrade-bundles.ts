/**
 * The workflow bundles of a rolling upgrade, all from today's src/workflows, around one real
 * patched() change (src/workflows/handoff-patches.ts, HANDOFF_SLA_ESCALATION: an expired handoff
 * SLA notifies the desk again after the holding message):
 *
 * - `a`: the build before the change (scripts/strip-patch-loader.cjs removes the patched() branch
 *   from handoff.ts: what main ran before that change);
 * - `b`: the build with the change, behind patched() (the production bundle, as `npm run build`
 *   makes it);
 * - `unpatched`: the same change made without patched() (its condition forced true): the mistake
 *   a rolling upgrade must catch, used to show the upgrade test's checks can fail.
 *
 * Webpack cannot run inside Jest's sandbox: test/production/global-setup.ts builds these.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { bundleWorkflowCode, type Logger as SdkLogger } from '@temporalio/worker';

import { projectRoot } from '../../dev/binaries';
import { productionBundleOptions } from '../../src/temporal/workflow-bundle';
import { HANDOFF_SLA_ESCALATION } from '../../src/workflows/handoff-patches';

/** The module holding the change, and the constant naming its patch. */
const CHANGED_MODULE = path.join(projectRoot, 'src', 'workflows', 'handoff.ts');
const PATCH_CONSTANT = 'HANDOFF_SLA_ESCALATION';

/** Which build: before the change, with it (patched), with it unpatched. */
export type UpgradeBuild = 'a' | 'b' | 'unpatched';

/** The file of each build in `dir`. */
export function upgradeBundlePath(dir: string, build: UpgradeBuild): string {
  return path.join(dir, `workflow-bundle-${build}.js`);
}

async function bundle(build: UpgradeBuild, logger?: SdkLogger): Promise<string> {
  const options = productionBundleOptions({ tracing: false, ...(logger ? { logger } : {}) });
  if (build === 'b') return (await bundleWorkflowCode(options)).code;
  const { code } = await bundleWorkflowCode({
    ...options,
    webpackConfigHook: (config) => ({
      ...config,
      module: {
        ...config.module,
        rules: [
          ...(config.module?.rules ?? []),
          {
            test: CHANGED_MODULE,
            enforce: 'pre',
            use: [
              {
                loader: path.join(projectRoot, 'scripts', 'strip-patch-loader.cjs'),
                options: { patchId: PATCH_CONSTANT, mode: build === 'a' ? 'absent' : 'unpatched' },
              },
            ],
          },
        ],
      },
    }),
  });
  return code;
}

/**
 * Builds the three bundles into `dir` and checks each is what it claims: the patch id is in `b`
 * only (patched() names it), and `a` no longer sends the sla_expired notification.
 */
export async function writeUpgradeBundles(dir: string, logger?: SdkLogger): Promise<Record<UpgradeBuild, string>> {
  const builds: UpgradeBuild[] = ['a', 'b', 'unpatched'];
  const codes = await Promise.all(builds.map((build) => bundle(build, logger)));
  const byBuild = Object.fromEntries(builds.map((build, i) => [build, codes[i] as string])) as Record<
    UpgradeBuild,
    string
  >;
  const paths = Object.fromEntries(builds.map((build) => [build, upgradeBundlePath(dir, build)])) as Record<
    UpgradeBuild,
    string
  >;
  for (const build of builds) writeFileSync(paths[build], byBuild[build]);
  // SWC compiles `patched(HANDOFF_SLA_ESCALATION)` to `(0, _workflow.patched)(_handoffpatches.HANDOFF_SLA_ESCALATION)`.
  const callsPatched = (code: string) => new RegExp(`patched\\)\\(\\w+\\.${PATCH_CONSTANT}\\)`).test(code);
  const escalates = (code: string) => code.includes("'handoff_sla_expired'");
  if (!byBuild.b.includes(`'${HANDOFF_SLA_ESCALATION}'`) || !callsPatched(byBuild.b) || !escalates(byBuild.b))
    throw new Error('build B does not call patched() for the handoff SLA change');
  if (escalates(byBuild.a)) throw new Error('build A still has the handoff SLA change');
  if (callsPatched(byBuild.unpatched) || !escalates(byBuild.unpatched))
    throw new Error('the unpatched build is not the change without patched()');
  return paths;
}
