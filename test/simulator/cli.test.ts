/**
 * The simulator CLI as a user runs it (`npx switchboard-sim`, through its bin): per-command help,
 * exit code 2 for usage mistakes, and the simulator's error statuses shown as statuses, also when
 * the body is not JSON. Against a real HTTP server standing in for the simulator's error answers.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';

const BIN = path.join(__dirname, '..', '..', 'bin', 'switchboard-sim.mjs');

function sim(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('switchboard-sim', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/sim/calls')) {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no such message: m-1' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('<command> --help shows that command only; flags need no --', async () => {
    const { code, stdout } = await sim(['fault', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: npx switchboard-sim fault \[options\]/);
    expect(stdout).toContain('--retry-after');
    expect(stdout).not.toContain('live-agent');
  });

  test('usage mistakes exit with 2', async () => {
    expect((await sim(['--no-such-flag'])).code).toBe(2);
    expect((await sim(['no-such-command'])).code).toBe(2);
    const missing = await sim(['text', '+14155550100']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('usage: npx switchboard-sim text <to> <words...>');
  });

  test("the simulator's error statuses are shown as statuses, JSON or not; exit 1", async () => {
    const notFound = await sim(['deliver', 'm-1', '--url', url]);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain('POST /sim/messages/m-1/deliver: 404 Not Found: no such message: m-1');
    const badGateway = await sim(['calls', '--url', url]);
    expect(badGateway.code).toBe(1);
    expect(badGateway.stderr).toContain('502 Bad Gateway: <html>bad gateway</html>');
    expect(badGateway.stderr).not.toMatch(/SyntaxError|Unexpected token/);
  });

  test('no simulator listening: says so, exit 1', async () => {
    const { code, stderr } = await sim(['reset', '--url', 'http://127.0.0.1:9']);
    expect(code).toBe(1);
    expect(stderr).toContain('no simulator at http://127.0.0.1:9');
  });
});
