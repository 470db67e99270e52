import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TemporalBinaries {
  cli: string;
  testServer: string;
  cliVersion: string;
  testServerVersion: string;
}

/** The project root (where package.json lives). */
export const projectRoot = path.resolve(__dirname, '..');

/** Paths resolved by scripts/bootstrap.mjs (run first by `npm start` and `npm test`). */
export function readTemporalBinaries(): TemporalBinaries {
  const file = path.join(projectRoot, '.tools', 'temporal-paths.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TemporalBinaries;
  } catch {
    throw new Error(
      `${file} is missing: run \`npm start\` or \`npm test\` (they run scripts/bootstrap.mjs, which finds or installs the Temporal binaries)`,
    );
  }
}
