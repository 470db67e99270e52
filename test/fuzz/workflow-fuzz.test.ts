/**
 * The randomized interleaving test inside `npm test` (issue 11): a fixed seed, 200 sequences of
 * the `ci` profile on the time-skipping server, every invariant checked after each. A failure
 * names the seed and sequence and prints the shrunk sequence, which
 * `npm run fuzz:workflow -- --replay <file>` runs again (the file is written to .data/fuzz-findings/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';
import { workflowBundle } from '../helpers/temporal';
import { CI_PROFILE, FULL_PROFILE } from './profile';
import { type FuzzEnvironment, runFuzz, runSequence, startFuzzEnvironment } from './runner';
import { type Sequence } from './steps';

const FINDINGS_DIR = path.join(projectRoot, 'test', 'fuzz', 'findings');
const findings = readdirSync(FINDINGS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

const SEED = 20_261_202;
const SEQUENCES = 200;
/** The test's own timeout, and the part of it the run may use before it stops and reports (shrinking, closing and the report need the rest). */
const TEST_TIMEOUT_MS = 20 * 60_000;
const RUN_BUDGET_MS = 15 * 60_000;
/**
 * A machine so slow that the budget ends the run early (here 200 sequences take about 2 minutes)
 * still has to get this far: every sequence that ran was checked, and a stalled clock or a dead
 * worker is a violation of its own, so slowness alone is no finding, but too few sequences prove little.
 */
const MIN_SEQUENCES = 60;

describe('workflow fuzzer, fixed seed', () => {
  let fuzz: FuzzEnvironment;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeAll(async () => {
    fuzz = await startFuzzEnvironment(workflowBundle().codePath, { stallLog: log });
  });
  afterAll(async () => {
    await fuzz?.close();
  });

  test(
    `${SEQUENCES} sequences of seed ${SEED} violate no invariant`,
    async () => {
      const report = await runFuzz(fuzz, {
        deadlineAtMs: Date.now() + RUN_BUDGET_MS,
        runs: SEQUENCES,
        seed: SEED,
        lanes: 3,
        profile: CI_PROFILE,
        shrinkBudget: 40,
        findingsDir: path.join(projectRoot, '.data', 'fuzz-findings'),
        log,
      });
      // On a violation the message carries the fuzzer's own report: seed, sequence, shrunk steps.
      if (report.findings.length > 0) throw new Error(lines.filter((l) => !l.includes(' sequences, ')).join('\n'));
      // A run the budget ended says how far it got and what held it (stalls, worker restarts).
      const progress = [
        `${report.sequences} of ${SEQUENCES} sequences in ${Math.round(report.realMs / 1000)} s: ${report.stalls} stalled time skips, ${report.workerRestarts} worker restarts`,
        ...lines,
      ].join('\n');
      if (report.sequences < MIN_SEQUENCES) throw new Error(progress);
      if (report.sequences < SEQUENCES) console.warn(`workflow fuzz: the time budget ended the run early\n${progress}`);
      expect(report.findings).toEqual([]);
      expect(report.stoppedAtDeadline || report.sequences === SEQUENCES).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  // Every sequence the fuzzer ever shrunk (each broke the workflow code of its day) passes now.
  test.each(findings)(
    'finding %s replays without a violation',
    async (file) => {
      const { sequence } = JSON.parse(readFileSync(path.join(FINDINGS_DIR, file), 'utf8')) as { sequence: Sequence };
      const result = await runSequence(fuzz, sequence, FULL_PROFILE);
      expect(result.violations).toEqual([]);
    },
    5 * 60_000,
  );
});
