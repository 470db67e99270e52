import { createActivities } from './activities';
import { buildActivityDeps } from './channels/dev-gateway';
import { loadConfig } from './config';
import { connectWorker } from './temporal/connections';
import { buildWorker } from './temporal/worker-factory';

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await connectWorker(config.temporal);
  try {
    const worker = await buildWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities(buildActivityDeps(config)),
    });
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
