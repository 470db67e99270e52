/**
 * `npm run fuzz:api`: property-based fuzzing of the running API from its own OpenAPI document.
 * Starts the stack on free ports (Temporal dev server, simulator, worker, API: bench/lib/stack.ts),
 * then runs schemathesis (pinned, installed into .tools by ./schemathesis.ts) against
 * GET /openapi.json with the operator token. Fails on any 5xx and on any response the document
 * does not describe (status, content type, headers, body schema). Options: --max-examples N
 * (default 20 per operation), --seed N (default 1), --max-time S (default 150).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { BENCH_API_TOKEN, BenchStack } from '../../bench/lib/stack';
import { projectRoot } from '../../dev/binaries';
import { ensureSchemathesis } from './schemathesis';

/** What the run judges: "no 5xx, no response that contradicts the document". */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
];

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? (process.argv[at + 1] as string) : fallback;
}

async function main(): Promise<number> {
  const st = ensureSchemathesis();
  const log = (line: string) => console.error(`[fuzz:api] ${line}`);
  const stack = await BenchStack.start({
    label: 'fuzz',
    persistence: 'memory',
    payloadEncryption: 'on',
    handleSignals: true,
    log,
  });
  try {
    await stack.startWorker();
    const api = await stack.startApi('switchboard', { LOG_LEVEL: 'error' });
    const reportDir = path.join(projectRoot, '.data', 'fuzz-api');
    mkdirSync(reportDir, { recursive: true });
    const args = [
      ...st.args,
      'run',
      `${api.url}/openapi.json`,
      '--url',
      api.url,
      '--header',
      `Authorization: Bearer ${BENCH_API_TOKEN}`,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      option('max-examples', '20'),
      '--seed',
      option('seed', '1'),
      '--max-time',
      option('max-time', '150'),
      // One worker: hypothesis's lambda-source cache trips CPython 3.11's AST recursion check across threads.
      '--workers',
      '1',
      '--request-timeout',
      '20',
      '--phases',
      'examples,coverage,fuzzing',
      '--report',
      'junit,har',
      '--report-dir',
      reportDir,
    ];
    const started = Date.now();
    log(`schemathesis against ${api.url}/openapi.json (checks: ${CHECKS.join(', ')})`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(st.command, args, { stdio: 'inherit', env: { ...process.env, ...st.env } });
      child.on('exit', (status) => resolve(status ?? 1));
    });
    const answers = statusCounts(reportDir, started);
    if (answers) log(answers);
    log(
      code === 0
        ? 'no server error, no response the document does not describe'
        : `schemathesis failed (exit ${code}); report in ${reportDir}`,
    );
    return code;
  } finally {
    await stack.stop();
  }
}

/** `N requests; 5xx: n; by status: 200 ×a, 400 ×b …; by operation: …` from the HAR report this run wrote. */
function statusCounts(dir: string, since: number): string | undefined {
  const file = readdirSync(dir)
    .filter((f) => f.startsWith('har-') && f.endsWith('.json'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= since)
    .sort()
    .at(-1);
  if (!file) return undefined;
  const har = JSON.parse(readFileSync(file, 'utf8')) as {
    log: { entries: { request: { method: string; url: string }; response: { status: number } }[] };
  };
  const byStatus = new Map<number, number>();
  const byOperation = new Map<string, Map<number, number>>();
  for (const { request, response } of har.log.entries) {
    byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    // The route family, roughly: method and the path's first segment (two under /v1); ids, keys and tokens vary.
    const segments = new URL(request.url).pathname.split('/').slice(1);
    const operation = `${request.method} /${segments.slice(0, segments[0] === 'v1' ? 2 : 1).join('/')}`;
    const counts = byOperation.get(operation) ?? new Map<number, number>();
    counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
    byOperation.set(operation, counts);
  }
  const list = (m: Map<number, number>) =>
    [...m]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status} ×${n}`)
      .join(', ');
  const serverErrors = [...byStatus]
    .filter(([status]) => status >= 500 && status !== 503)
    .reduce((sum, [, n]) => sum + n, 0);
  const lines = [...byOperation].sort(([a], [b]) => a.localeCompare(b)).map(([op, m]) => `  ${op}: ${list(m)}`);
  return `${har.log.entries.length} requests; 5xx other than 503: ${serverErrors}; 503: ${byStatus.get(503) ?? 0}; by status: ${list(byStatus)}\n${lines.join('\n')}`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
