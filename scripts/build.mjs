// `npm run build`: the production build. Compiles src/ into dist/ (tsconfig.build.json), then
// pre-bundles the workflows into dist/workflow-bundle.js (tracing off) and dist/workflow-bundle-tracing.js
// (OTEL_ENABLED=true, with the OpenTelemetry workflow interceptors) so workers start without webpack.
// `--out-dir DIR` builds somewhere else (the deployment tests build into a scratch folder).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--out-dir');
const outDir = path.resolve(root, at >= 0 && args[at + 1] ? args[at + 1] : 'dist');

function run(step, command, commandArgs) {
  const res = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`[build] ${step} failed (exit ${res.status ?? res.signal})`);
    process.exit(1);
  }
}

// A clean folder: files of deleted sources must not linger in an image.
rmSync(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
run('tsc', process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir]);
run('workflow bundle', process.execPath, [path.join(outDir, 'build-workflow-bundle.js')]);
console.log(
  `[build] done: ${path.relative(root, outDir) || '.'}/worker.js, server.js, workflow-bundle.js, workflow-bundle-tracing.js`,
);
