/**
 * `npm start` supervises its children (dev/devstack/children.ts): a child that crashes is started
 * again after a back-off that doubles with each quick crash, every restart is logged, and a stop
 * ends it for good. The children here are real processes that crash on their own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ManagedChild } from '../../dev/devstack/children';
import { pollUntil } from '../../dev/poll';

describe('npm start supervisor', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'switchboard-supervisor-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a crashing child is restarted with a doubling back-off and each restart is logged; stop ends it', async () => {
    const starts = path.join(dir, 'starts');
    // Appends one line per start, prints it, then crashes with code 3.
    const script = `require('fs').appendFileSync(${JSON.stringify(starts)}, Date.now() + '\\n'); console.log('started'); process.exit(3);`;
    const lines: string[] = [];
    const child = new ManagedChild(
      'crasher',
      process.execPath,
      ['-e', script],
      process.env,
      (line) => lines.push(line),
      { initialMs: 100, maxMs: 400, stableMs: 60_000 },
    );
    await pollUntil({
      what: 'four starts of the crashing child',
      read: async () => readStarts(starts).length,
      done: (n) => n >= 4,
      timeoutMs: 20_000,
    });
    await child.stop();
    const at = readStarts(starts);
    expect(child.restartCount).toBeGreaterThanOrEqual(3);
    // Back-off 100, 200, 400 ms between the starts (each start also pays a node boot).
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(100);
    expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(200);
    expect((at[3] ?? 0) - (at[2] ?? 0)).toBeGreaterThanOrEqual(400);
    expect(lines).toContain('[crasher] started');
    expect(lines).toContain('[crasher] exited unexpectedly (code 3); restarting in 0.1 s (restart 1)');
    expect(lines).toContain('[crasher] exited unexpectedly (code 3); restarting in 0.2 s (restart 2)');
    const after = readStarts(starts).length;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(readStarts(starts)).toHaveLength(after);
  });

  test('a child stopped on purpose is not restarted', async () => {
    const lines: string[] = [];
    const child = new ManagedChild(
      'steady',
      process.execPath,
      ['-e', "console.log('up'); setInterval(() => undefined, 1000);"],
      process.env,
      (line) => lines.push(line),
      { initialMs: 50, maxMs: 50, stableMs: 1000 },
    );
    await pollUntil({
      what: 'the child to print up',
      read: async () => lines.includes('[steady] up'),
      done: Boolean,
      timeoutMs: 10_000,
    });
    await child.stop();
    expect(child.restartCount).toBe(0);
    expect(lines.filter((l) => l.includes('exited unexpectedly'))).toEqual([]);
  });
});

function readStarts(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
