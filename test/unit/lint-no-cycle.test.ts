/**
 * The lint rule that keeps src/ free of import cycles is on and bites: the project's ESLint
 * configuration refuses the two fixture modules that import each other and accepts the pair that
 * forms a tree. The fixtures sit outside `eslint .` (ignored there), so they are linted explicitly.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '../..');
const eslintBin = path.join(root, 'node_modules', '.bin', 'eslint');

interface LintResult {
  filePath: string;
  messages: { ruleId: string | null; message: string }[];
}

async function lint(folder: string): Promise<LintResult[]> {
  const files = ['greeting.ts', 'punctuation.ts'].map((name) => path.join(root, 'test/fixtures', folder, name));
  const { stdout } = await promisify(execFile)(eslintBin, ['--no-ignore', '--format', 'json', ...files], {
    cwd: root,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return JSON.parse(stdout) as LintResult[];
}

test('two modules importing each other fail lint with import-x/no-cycle', async () => {
  const results = await lint('import-cycle');
  expect(results).toHaveLength(2);
  for (const result of results) expect(result.messages.map((m) => m.ruleId)).toEqual(['import-x/no-cycle']);
});

test('the same modules without the back edge lint clean', async () => {
  const results = await lint('import-tree');
  expect(results.flatMap((r) => r.messages)).toEqual([]);
});
