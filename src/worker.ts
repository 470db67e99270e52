/**
 * Worker entry point (`node dist/worker.js`, or `tsx src/worker.ts`): everything is in
 * src/temporal/worker-process.ts. Exits 0 after a graceful shutdown (SIGTERM/SIGINT), 1 on failure.
 */
import { loadConfig } from './config';
import { runWorkerProcess } from './temporal/worker-process';

async function main(): Promise<void> {
  await runWorkerProcess(loadConfig());
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
