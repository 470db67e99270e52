/**
 * The real entry points (`src/worker.ts`, `src/server.ts`) refuse to start in production without a
 * payload key, naming the variables, unless PAYLOAD_ENCRYPTION=off says so on purpose; the API
 * then warns that payloads go in clear. With a key the worker gets past the check (and here fails
 * only at connecting, to a port where no Temporal listens).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';
import { generatePayloadKeyEntry } from '../../src/temporal/payload-keys';
import { freePort } from '../helpers/ports';

interface Outcome {
  code: number | null;
  out: string;
}

/** Runs an entry point with only `env` (plus PATH/HOME) until it exits or has printed everything `until` lists; then stops it. */
function runEntry(entry: string, env: Record<string, string>, until: RegExp[] = []): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'src', entry)], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (until.length > 0 && until.every((r) => r.test(out))) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:1', LOG_LEVEL: 'info', WORKER_METRICS_ADDRESS: 'off' };

describe('start-up rule: production needs a payload key unless encryption is turned off on purpose', () => {
  test.each(['worker.ts', 'server.ts'])(
    '%s without a key in production exits 1, naming the variables',
    async (entry) => {
      const { code, out } = await runEntry(entry, NO_TEMPORAL);
      expect(code).toBe(1);
      expect(out).toMatch(
        /SWITCHBOARD_MODE=production needs payload encryption keys: set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE/,
      );
    },
  );

  test('server.ts with PAYLOAD_ENCRYPTION=off starts, and warns that payloads go in clear', async () => {
    const { out } = await runEntry(
      'server.ts',
      {
        ...NO_TEMPORAL,
        PAYLOAD_ENCRYPTION: 'off',
        WORKFLOW_ID_SECRET: "this deployment's own workflow id secret",
        API_PORT: String(await freePort()),
      },
      [/payload encryption is off/, /api listening/],
    );
    const entries = out
      .split('\n')
      .flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : []));
    expect(entries.find((entry) => entry.msg === 'api listening')).toMatchObject({
      payloadEncryption: 'off: payloads written and read in clear',
    });
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'payload encryption is off: message texts and phone numbers reach Temporal in clear',
      }),
    );
  });

  test('worker.ts with a key gets past the check (and stops at connecting to no Temporal)', async () => {
    const entry = generatePayloadKeyEntry('startup');
    const { code, out } = await runEntry('worker.ts', { ...NO_TEMPORAL, PAYLOAD_ENCRYPTION_KEYS: entry });
    expect(code).toBe(1);
    expect(out).not.toMatch(/needs payload encryption keys/);
    expect(out).not.toContain(entry.split(':')[1] as string);
  });
});
