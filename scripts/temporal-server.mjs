// The production Temporal server for `npm run test:production`: the real server (`temporal-server`)
// and its SQL schema tool (`temporal-sql-tool`), built from the Go module proxy with the machine's
// Go into the git-ignored .tools/temporal-server/<version>/, and PostgreSQL's server binaries
// (initdb, pg_ctl, postgres) from the machine. The first build takes minutes (module download and
// compile); later runs reuse the binaries, and a fresh folder reuses Go's module and build caches.
// The version is the one docker-compose.yml runs (test/deploy/compose.test.ts keeps them equal).
// Writes .tools/temporal-server.json for the harness (bench/lib/production-temporal.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Temporal server version; docker-compose.yml's temporalio/server image has the same tag. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** PostgreSQL major version of the private cluster (compose runs the same major). */
export const POSTGRES_MAJOR = 15;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const serverInfoFile = path.join(root, '.tools', 'temporal-server.json');

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fail(message) {
  throw new Error(message);
}

/** The PostgreSQL server binaries: POSTGRES_BIN_DIR, else Debian's /usr/lib/postgresql/<major>/bin. */
function postgresBinDir() {
  const candidates = [process.env.POSTGRES_BIN_DIR, `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`].filter(Boolean);
  for (const dir of candidates) {
    if (['initdb', 'pg_ctl', 'postgres', 'pg_isready'].every((b) => isExecutable(path.join(dir, b)))) return dir;
  }
  fail(`PostgreSQL ${POSTGRES_MAJOR} server binaries (initdb, pg_ctl, postgres) not found in ${candidates.join(' or ')}.
Install them, then run the command again:
  Debian / Ubuntu:  apt-get install postgresql-${POSTGRES_MAJOR}     (binaries land in /usr/lib/postgresql/${POSTGRES_MAJOR}/bin;
                    no system service is needed: the test runs its own private cluster in .data/)
  elsewhere:        point POSTGRES_BIN_DIR at the folder holding initdb, pg_ctl, postgres and pg_isready.`);
}

function goBinary() {
  const res = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    fail(`Go is needed once to build the Temporal server ${TEMPORAL_SERVER_VERSION} (go install from the Go module proxy).
Install Go 1.24 or newer (https://go.dev/dl/ or apt-get install golang), make sure \`go\` is on PATH, and run the command again.
The first build downloads about 1.6 GB of modules and takes about 8 minutes; later runs reuse the binaries.`);
  }
  return res.stdout.trim();
}

/** Builds (or reuses) the server and the schema tool; returns their paths and the schema/config folders. */
export function resolveTemporalServer(log = (line) => console.error(`[temporal-server] ${line}`)) {
  const pgBin = postgresBinDir();
  const dir = path.join(root, '.tools', 'temporal-server', TEMPORAL_SERVER_VERSION);
  const server = path.join(dir, 'temporal-server');
  const sqlTool = path.join(dir, 'temporal-sql-tool');
  let buildSeconds = 0;
  const goVersion = goBinary();
  const modCache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  if (!isExecutable(server) || !isExecutable(sqlTool)) {
    log(
      `building go.temporal.io/server ${TEMPORAL_SERVER_VERSION} (cmd/server, cmd/tools/sql) into ${path.relative(root, dir)} with ${goVersion}; the first time takes minutes`,
    );
    const started = Date.now();
    const gobin = path.join(dir, 'bin');
    mkdirSync(gobin, { recursive: true });
    const res = spawnSync(
      'go',
      [
        'install',
        `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
        `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      ],
      {
        env: { ...process.env, GOBIN: gobin },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    if (res.status !== 0)
      fail(
        `go install of the Temporal server ${TEMPORAL_SERVER_VERSION} failed (see above). It needs the Go module proxy (GOPROXY) or a warm module cache.`,
      );
    renameSync(path.join(gobin, 'server'), server);
    renameSync(path.join(gobin, 'sql'), sqlTool);
    buildSeconds = Math.round((Date.now() - started) / 1000);
    log(`built in ${buildSeconds} s`);
  }
  const moduleDir = path.join(modCache, `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`);
  const schemaDir = path.join(moduleDir, 'schema', 'postgresql', 'v12');
  if (!existsSync(schemaDir))
    fail(
      `the server's PostgreSQL schemas are missing from the module cache (${schemaDir}); run \`go mod download go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}\``,
    );
  const result = {
    version: TEMPORAL_SERVER_VERSION,
    server,
    sqlTool,
    schemaDir,
    postgresBinDir: pgBin,
    postgresVersion: execFileSync(path.join(pgBin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim(),
    goVersion,
    ...(buildSeconds ? { lastBuildSeconds: buildSeconds } : {}),
  };
  mkdirSync(path.dirname(serverInfoFile), { recursive: true });
  writeFileSync(serverInfoFile, JSON.stringify(result, null, 2) + '\n');
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(resolveTemporalServer(), null, 2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
