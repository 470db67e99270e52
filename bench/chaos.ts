/**
 * `npm run chaos`: the fault run of bench/lib/chaos.ts at full size (the short version runs
 * inside `npm test` as test/chaos/chaos.test.ts). Prints the counts, writes them to
 * bench/results/chaos-*.json, and exits 1 when anything was lost, duplicated or left unfinished.
 *
 *   npm run chaos [-- --conversations 80 --exchanges 2 --concurrency 8 --seed 1]
 *   npm run chaos -- --temporal postgres --workers 2 --apis 2 --conversations 1250   (production shape;
 *     needs `node scripts/temporal-server.mjs` first, as `npm run test:production` runs it)
 */
import { parseArgs } from 'node:util';

import { readTemporalBinaries } from '../dev/binaries';
import { describeChaos, runChaos } from './lib/chaos';
import { hostInfo, writeJsonResult } from './lib/results';

const { values: args } = parseArgs({
  options: {
    conversations: { type: 'string', default: '80' },
    exchanges: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
    'fault-rate': { type: 'string', default: '0.2' },
    'duplicate-rate': { type: 'string', default: '0.3' },
    seed: { type: 'string', default: '1' },
    'deadline-s': { type: 'string', default: '600' },
    temporal: { type: 'string', default: 'dev' },
    workers: { type: 'string', default: '1' },
    apis: { type: 'string', default: '1' },
  },
});

async function main(): Promise<void> {
  const at = new Date().toISOString();
  const options = {
    conversations: Number(args.conversations),
    exchanges: Number(args.exchanges),
    concurrency: Number(args.concurrency),
    faultRate: Number(args['fault-rate']),
    duplicateRate: Number(args['duplicate-rate']),
    seed: Number(args.seed),
    deadlineMs: Number(args['deadline-s']) * 1000,
    temporal: args.temporal === 'postgres' ? ('postgres' as const) : ('dev' as const),
    workers: Number(args.workers),
    apis: Number(args.apis),
  };
  if (args.temporal !== 'dev' && args.temporal !== 'postgres')
    throw new Error(`--temporal must be dev or postgres, not ${args.temporal}`);
  const report = await runChaos({ ...options, handleSignals: true, log: (line) => console.log(line) });
  console.log(`\n${describeChaos(report)}`);
  const file = writeJsonResult('chaos', at, {
    benchmark: 'switchboard-chaos',
    at,
    command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim(),
    options,
    temporal:
      options.temporal === 'postgres'
        ? {
            server: report.deployment.temporal,
            persistence: 'PostgreSQL (private cluster in .data/production), server and PostgreSQL restarted once each',
          }
        : { server: readTemporalBinaries().cliVersion, persistence: 'sqlite (WAL) in a temp folder, restarted once' },
    host: hostInfo(),
    report,
  });
  console.log(`\nwritten: ${file}`);
  if (report.violations.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
