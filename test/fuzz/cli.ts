/**
 * `npm run fuzz:workflow -- [--runs N] [--seed S] [--from K] [--lanes L] [--profile full|ci] [--replay file.json]`
 *
 * Runs N generated sequences (default 200, seed default: the current time) and prints progress;
 * on a violation prints the seed and the shrunk sequence and writes it to test/fuzz/findings/
 * (or --findings-dir). `--replay file.json` runs a finding (or a bare sequence) again, `--repeat`
 * times, and prints its violations. Exit code 1 when any sequence violated an invariant.
 */
import { readFileSync } from 'node:fs';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

import { projectRoot } from '../../dev/binaries';
import { PROFILES } from './profile';
import { runFuzz, runSequence, shrink, startFuzzEnvironment, writeFinding } from './runner';
import { type Sequence } from './steps';

interface Args {
  runs: number;
  seed: number;
  /** `--from K`: start at sequence K (sequences K…N-1 of the seed), to finish a long run that was stopped. */
  from: number;
  lanes: number;
  profile: string;
  replay?: string;
  repeat: number;
  shrinkBudget: number;
  maxFailures?: number;
  findingsDir: string;
  /** With --replay: shrink the replayed sequence when it fails and write the finding. */
  shrink: boolean;
  /** Log every step as it starts. */
  trace: boolean;
  /** A time skip that does not return within this many real ms kills the worker (default 60 000). */
  stallMs?: number;
  /** `--weight kind=n` (repeatable): override a step kind's weight in the profile's generator. */
  weights: Record<string, number>;
  profileGiven: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    runs: 200,
    seed: Date.now() % 2 ** 31,
    from: 0,
    lanes: 4,
    profile: 'full',
    repeat: 1,
    shrink: false,
    trace: false,
    weights: {},
    profileGiven: false,
    shrinkBudget: 80,
    findingsDir: path.join(projectRoot, 'test', 'fuzz', 'findings'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const num = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got ${value}`);
      i++;
      return n;
    };
    switch (flag) {
      case '--runs':
        args.runs = num();
        break;
      case '--seed':
        args.seed = num();
        break;
      case '--from':
        args.from = num();
        break;
      case '--lanes':
        args.lanes = Math.max(1, num());
        break;
      case '--repeat':
        args.repeat = Math.max(1, num());
        break;
      case '--shrink-budget':
        args.shrinkBudget = num();
        break;
      case '--max-failures':
        args.maxFailures = num();
        break;
      case '--profile':
        if (!value || !PROFILES[value]) throw new Error(`--profile must be one of ${Object.keys(PROFILES).join(', ')}`);
        args.profile = value;
        args.profileGiven = true;
        i++;
        break;
      case '--shrink':
        args.shrink = true;
        break;
      case '--trace':
        args.trace = true;
        break;
      case '--stall-ms':
        args.stallMs = num();
        break;
      case '--weight': {
        const [kind, w] = (value ?? '').split('=');
        if (!kind || w === undefined || !Number.isFinite(Number(w)))
          throw new Error('--weight needs kind=number, e.g. agentTyping=0');
        args.weights[kind] = Number(w);
        i++;
        break;
      }
      case '--replay':
        if (!value) throw new Error('--replay needs a file');
        args.replay = value;
        i++;
        break;
      case '--findings-dir':
        if (!value) throw new Error('--findings-dir needs a folder');
        args.findingsDir = path.resolve(value);
        i++;
        break;
      default:
        throw new Error(`unknown argument ${flag} (see test/fuzz/cli.ts)`);
    }
  }
  return args;
}

async function bundle(): Promise<string> {
  const out = path.join(projectRoot, '.tools', 'fuzz', 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(projectRoot, 'src', 'workflows'),
    logger: new DefaultLogger('WARN'),
  });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const base = PROFILES[args.profile]!;
  const profile = {
    ...base,
    generator: { ...base.generator, weights: { ...base.generator.weights, ...args.weights } },
  };
  const log = (line: string) => console.log(line);
  const started = Date.now();
  const fuzz = await startFuzzEnvironment(await bundle(), {
    stallLog: log,
    ...(args.stallMs !== undefined ? { stallMs: args.stallMs } : {}),
    ...(args.trace ? { debug: (line: string) => log(`[trace +${Date.now() - started} ms] ${line}`) } : {}),
  });
  try {
    if (args.replay) {
      const parsed = JSON.parse(readFileSync(args.replay, 'utf8')) as
        Sequence | { sequence: Sequence; profile?: string };
      const sequence = 'sequence' in parsed ? parsed.sequence : parsed;
      // A finding replays under the profile it was found with unless --profile says otherwise.
      if (!args.profileGiven && 'sequence' in parsed && parsed.profile && PROFILES[parsed.profile])
        Object.assign(profile, PROFILES[parsed.profile], { generator: profile.generator });
      let failed = 0;
      for (let i = 0; i < args.repeat; i++) {
        const result = await runSequence(fuzz, sequence, profile);
        log(
          `[fuzz] replay ${i + 1}/${args.repeat}: ${result.violations.length === 0 ? 'no violation' : result.violations.map((v) => `${v.check}: ${v.message}`).join(' | ')} (${result.observation.realMs} ms, ${result.observation.runs.length} runs)`,
        );
        if (result.violations.length > 0) {
          failed++;
          if (args.shrink && failed === 1) {
            const shrunk = await shrink(
              fuzz,
              { ...result, index: 0 },
              { profile, shrinkBudget: args.shrinkBudget, log },
            );
            const file = writeFinding(args.findingsDir, {
              seed: sequence.seed,
              index: 0,
              profile: profile.name,
              violations: shrunk.violations,
              sequence: shrunk.sequence,
              originalSteps: sequence.steps.length,
              reproducedAlone: shrunk.reproduced,
            });
            log(
              `[fuzz] shrunk to ${shrunk.sequence.steps.length} of ${sequence.steps.length} steps (${file}):\n${JSON.stringify(shrunk.sequence)}`,
            );
          }
        }
      }
      return failed > 0 ? 1 : 0;
    }
    log(
      `[fuzz] profile ${profile.name}, seed ${args.seed}, ${args.runs} sequences${args.from > 0 ? ` from ${args.from}` : ''}, ${args.lanes} lanes`,
    );
    const report = await runFuzz(fuzz, {
      runs: args.runs,
      seed: args.seed,
      from: args.from,
      lanes: args.lanes,
      profile,
      shrinkBudget: args.shrinkBudget,
      maxFailures: args.maxFailures,
      findingsDir: args.findingsDir,
      log,
    });
    log(
      `[fuzz] done: ${report.sequences} sequences (${report.steps} steps) in ${(report.realMs / 1000).toFixed(0)} s = ${report.perMinute.toFixed(1)} sequences/min; ${report.findings.length} failing; worker restarts ${report.workerRestarts}`,
    );
    return report.findings.length > 0 ? 1 : 0;
  } finally {
    await fuzz.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
