#!/usr/bin/env node
// `npx switchboard-sim <command>`: the simulator CLI (dev/simulator/cli.ts) without npm's `--` before its flags.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dev/simulator/cli.ts', import.meta.url));
const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
