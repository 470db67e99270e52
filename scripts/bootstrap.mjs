// First-use setup shared by `npm start` and `npm test`: installs the locked npm dependencies when
// node_modules is missing or older than package-lock.json, then makes sure the Temporal binaries
// are there. Plain Node with no dependencies, because it runs before node_modules exists.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveTemporalBinaries } from './temporal-binaries.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  console.error(`[bootstrap] ${message}`);
  process.exit(1);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 3))
  fail(`Node ${process.versions.node} is too old: Switchboard needs Node 20.3 or newer.`);

const lockFile = path.join(root, 'package-lock.json');
const stampFile = path.join(root, 'node_modules', '.switchboard-lock.sha256');
const lockHash = createHash('sha256').update(readFileSync(lockFile)).digest('hex');
const installed = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
if (installed !== lockHash) {
  console.error('[bootstrap] installing npm dependencies from package-lock.json (npm ci)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) fail('npm ci failed: see the output above.');
  writeFileSync(stampFile, lockHash + '\n');
}

// `--npm-only`: the pure unit tests need the npm dependencies but no Temporal binaries.
if (process.argv.includes('--npm-only')) process.exit(0);

try {
  resolveTemporalBinaries();
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
