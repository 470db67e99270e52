/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so their wiring is
 * checked by reading them: pinned images, ports that match the configuration, environment names
 * that src/config.ts knows (and values it accepts), start-up order, the search attributes of
 * src/workflows/definitions.ts, and a multi-stage, non-root image with production dependencies.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { parse } from 'yaml';

import { projectRoot } from '../../dev/binaries';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { searchAttributeCliArgs } from '../../src/temporal/search-attributes';

interface Service {
  image?: string;
  build?: { context: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  stop_grace_period?: string;
}

const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const SWITCHBOARD = ['worker', 'api'] as const;

/** `30s`, `1m30s` → ms (compose durations). */
function durationMs(value: string): number {
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+)(ms|s|m|h)/g))
    total += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return total;
}

const script = (s: Service): string => (Array.isArray(s.command) ? s.command.join('\n') : (s.command ?? ''));

describe('docker-compose.yml', () => {
  test('has the whole stack: PostgreSQL, schema setup, Temporal, its setup, the UI, worker and api', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'postgresql',
      'temporal',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
  });

  test('every image is pinned to an explicit version (no :latest, no untagged image)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9./-]+:(?!latest$)[\w][\w.-]*$/),
      });
    }
    expect(service('postgresql').image).toMatch(/^postgres:\d+\.\d+$/);
    expect(service('temporal').image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(service('temporal-schema').image).toMatch(/^temporalio\/admin-tools:\d+\.\d+\.\d+$/);
    expect(service('temporal-setup').image).toBe(service('temporal-schema').image);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    // The server and its admin tools come from the same release.
    expect(service('temporal').image?.split(':')[1]).toBe(service('temporal-schema').image?.split(':')[1]);
    // … the release and the PostgreSQL major that `npm run test:production` runs (scripts/temporal-server.mjs).
    const pinned = readFileSync(path.join(projectRoot, 'scripts', 'temporal-server.mjs'), 'utf8');
    expect(service('temporal').image).toBe(
      `temporalio/server:${/TEMPORAL_SERVER_VERSION = '([\d.]+)'/.exec(pinned)?.[1]}`,
    );
    expect(service('postgresql').image?.split(':')[1]?.split('.')[0]).toBe(/POSTGRES_MAJOR = (\d+)/.exec(pinned)?.[1]);
    for (const name of SWITCHBOARD) expect(service(name).build).toEqual({ context: '.', target: 'runtime' });
  });

  test('ports: host:container pairs, no host port twice, and container ports match each service', () => {
    const hostPorts: string[] = [];
    for (const s of Object.values(services)) {
      for (const p of s.ports ?? []) {
        // Only the API is published on all interfaces; everything else binds the host's loopback.
        expect(p).toMatch(s === services.api ? /^\d+:\d+$/ : /^127\.0\.0\.1:\d+:\d+$/);
        hostPorts.push(p.split(':').slice(0, -1).join(':'));
      }
    }
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    const containerPorts = (s: Service) => (s.ports ?? []).map((p) => Number(p.split(':').at(-1)));
    expect(containerPorts(service('temporal'))).toContain(7233);
    expect(containerPorts(service('temporal-ui'))).toEqual([8080]);
    const api = service('api').environment ?? {};
    expect(api.API_HOST).toBe('0.0.0.0');
    expect(containerPorts(service('api'))).toEqual([Number(api.API_PORT)]);
    const worker = service('worker').environment ?? {};
    const metricsPort = Number(worker.WORKER_METRICS_ADDRESS?.split(':')[1]);
    expect(worker.WORKER_METRICS_ADDRESS).toMatch(/^0\.0\.0\.0:/);
    expect(worker.WORKER_HEALTH_HOST).toBe('0.0.0.0');
    expect(containerPorts(service('worker')).sort()).toEqual([Number(worker.WORKER_HEALTH_PORT), metricsPort].sort());
  });

  test('worker and api: every variable is one src/config.ts reads, and the values pass its validation', () => {
    for (const name of SWITCHBOARD) {
      const env = service(name).environment ?? {};
      const unknown = Object.keys(env).filter((k) => !CONFIG_VARIABLES.includes(k));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
      // Paths inside the image (/app) are the repository's here.
      const local = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, v.startsWith('/app/') ? path.join(projectRoot, v.slice(5)) : v]),
      );
      const config = loadConfig(local);
      expect(config.temporal.connection.address).toBe('temporal:7233');
      expect(config.temporal.namespace).toBe('default');
      expect(config.routing).toBeDefined();
    }
    const { ROUTING_FILE: _inImage, ...workerEnv } = service('worker').environment ?? {};
    const worker = loadConfig(workerEnv);
    expect(worker.env.WORKFLOW_BUNDLE_PATH).toBe('/app/dist/workflow-bundle.js');
    // Docker's SIGKILL must come after the worker's own grace time.
    expect(durationMs(service('worker').stop_grace_period ?? '10s')).toBeGreaterThan(
      worker.env.WORKER_SHUTDOWN_GRACE_MS,
    );
    for (const name of ['temporal-ui', 'temporal-setup'])
      expect(service(name).environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  test('no password is written in the file: every password variable is ${POSTGRES_PASSWORD:?…}, so compose refuses to start without one in .env', () => {
    const passwords = Object.entries(services).flatMap(([name, s]) =>
      Object.entries(s.environment ?? {})
        .filter(([k]) => /PASSWORD|PWD/.test(k))
        .map(([k, v]) => ({ service: name, variable: k, value: v })),
    );
    expect(passwords.map((p) => p.service).sort()).toEqual(expect.arrayContaining(['postgresql', 'temporal']));
    for (const p of passwords)
      expect(p).toEqual({ ...p, value: expect.stringMatching(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/) });
    const text = readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/POSTGRES_PASSWORD:-/);
  });

  test('services depend on what they use, with conditions their targets can satisfy', () => {
    const deps = (name: string) => service(name).depends_on ?? {};
    expect(deps('temporal-schema')).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(deps('temporal')).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(deps('temporal-setup')).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(deps('temporal-ui')).toEqual({ temporal: { condition: 'service_healthy' } });
    for (const name of SWITCHBOARD) {
      expect(deps(name)).toEqual({
        temporal: { condition: 'service_healthy' },
        'temporal-setup': { condition: 'service_completed_successfully' },
      });
    }
    for (const [name, s] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect({ name, target, exists: target in services }).toEqual({ name, target, exists: true });
        if (condition === 'service_healthy')
          expect({ target, healthcheck: service(target).healthcheck !== undefined }).toEqual({
            target,
            healthcheck: true,
          });
        if (condition === 'service_completed_successfully')
          expect({ target, restart: service(target).restart }).toEqual({ target, restart: 'no' });
      }
    }
  });

  test('schema setup creates and migrates both databases with the PostgreSQL plugin', () => {
    const sql = script(service('temporal-schema'));
    expect(sql).toContain('temporal-sql-tool --plugin postgres12 --ep postgresql');
    expect(sql).toMatch(/for db in temporal temporal_visibility/);
    expect(sql).toContain('update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned');
    expect(sql).toContain('update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned');
    expect(service('temporal').environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  });

  test("the search attributes registered at start are exactly src/workflows/definitions.ts's", () => {
    const registered = [...script(service('temporal-setup')).matchAll(/^\s*attribute (\w+) (\w+)\s*$/gm)].map(
      ([, name, type]) => `${name}=${type}`,
    );
    const expected = searchAttributeCliArgs().filter((a) => a !== '--search-attribute');
    expect(registered.sort()).toEqual(expected.sort());
    expect(script(service('temporal-setup'))).toContain(
      'temporal operator search-attribute create --namespace default --name "$$1" --type "$$2"',
    );
  });

  test('mounted files exist and the server is pointed at its dynamic config', () => {
    const temporal = service('temporal');
    const mount = temporal.volumes?.find((v) => v.startsWith('./'));
    const [source, target] = (mount ?? '').split(':');
    expect(existsSync(path.join(projectRoot, source ?? ''))).toBe(true);
    expect(target).toBe(`/etc/temporal/${temporal.environment?.DYNAMIC_CONFIG_FILE_PATH}`);
    const dynamicConfig = parse(readFileSync(path.join(projectRoot, source ?? ''), 'utf8')) as Record<
      string,
      { value: unknown }[]
    >;
    for (const key of [
      'frontend.enableExecuteMultiOperation',
      'system.enableDeploymentVersions',
      'frontend.workerVersioningWorkflowAPIs',
    ])
      expect(dynamicConfig[key]?.[0]?.value).toBe(true);
    // A test-only setting: with it, a database outage is answered NamespaceNotFound (the API's 500s in the production chaos run).
    expect(dynamicConfig).not.toHaveProperty(['system.forceSearchAttributesCacheRefreshOnRead']);
  });

  test('worker and api run the built image by command, with health checks on their own ports', () => {
    expect(service('worker').command).toEqual(['node', 'dist/worker.js']);
    expect(service('api').command).toEqual(['node', 'dist/server.js']);
    expect(service('worker').healthcheck?.test.join(' ')).toContain(
      `http://127.0.0.1:${service('worker').environment?.WORKER_HEALTH_PORT}/readyz`,
    );
    expect(service('api').healthcheck?.test.join(' ')).toContain(
      `http://127.0.0.1:${service('api').environment?.API_PORT}/readyz`,
    );
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const stages: { name: string; from: string; lines: string[] }[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1] as string, name: from[2] ?? '', lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const stage = (name: string) => {
    const s = stages.find((x) => x.name === name);
    if (!s) throw new Error(`Dockerfile has no stage ${name}`);
    return s;
  };

  test('is multi-stage: deps → build → prod-deps → runtime, the runtime stage last', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'prod-deps', 'runtime']);
    expect(stage('build').from).toBe('deps');
  });

  test('base images are pinned', () => {
    const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    expect(arg).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim$/);
    for (const s of stages) expect(['deps', '${NODE_IMAGE}']).toContain(s.from);
  });

  test('the build stage runs the production build; the runtime gets production dependencies only and no sources', () => {
    expect(stage('build').lines).toContain('RUN npm run build');
    expect(stage('prod-deps').lines.join('\n')).toMatch(/npm ci --omit=dev/);
    const runtime = stage('runtime').lines.join('\n');
    expect(runtime).toContain('COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules');
    expect(runtime).toContain('COPY --from=build --chown=node:node /app/dist ./dist');
    expect(runtime).not.toMatch(/--from=deps|COPY\s+(--\S+\s+)*src\b/);
  });

  test('runs as a non-root user, set before the command', () => {
    const runtime = stage('runtime').lines;
    const user = runtime.findIndex((l) => /^USER\s+/.test(l));
    expect(user).toBeGreaterThanOrEqual(0);
    expect(runtime[user]).toMatch(/^USER\s+(?!root\b|0\b)\S+/);
    expect(runtime.findIndex((l) => /^CMD\s/.test(l))).toBeGreaterThan(user);
    expect(runtime.join('\n')).toContain('CMD ["node", "dist/server.js"]');
  });

  test('.dockerignore keeps local state and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env', '.data', '.tools']));
  });
});
