/**
 * `npm start`: the embedded stack. Temporal dev server (Web UI on :8233, state in .data/), the
 * simulator (local Google + SMS platform), the worker and the API, each a child process whose
 * output is prefixed with its name. Each is supervised: one that crashes is restarted with a
 * back-off (1 s, doubling to 30 s) and the restart is logged, instead of stopping the stack.
 * Ctrl-C / SIGTERM stops them all.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { Connection } from '@temporalio/client';

import { DEV_API_TOKEN, DEV_CLIENT_TOKEN, loadConfig, processEnvironment } from '../src/config';
import { ensureSearchAttributes } from '../src/temporal/search-attributes';
import { projectRoot, readTemporalBinaries } from './binaries';
import { DevServer } from './dev-server';
import { ManagedChild } from './devstack/children';
import { devPayloadPrivacy } from './devstack/payload-privacy';
import { isPortFree } from './devstack/ports';
import { pollUntil } from './poll';

const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const dataDir = path.join(projectRoot, '.data');

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  await pollUntil({
    what: `${url} to answer`,
    read: async () => (await fetch(url)).status,
    done: (status) => status < 500,
    retryErrors: true,
    timeoutMs,
    intervalMs: 250,
  });
}

async function main(): Promise<void> {
  const userEnv = processEnvironment();
  const userConfig = loadConfig(userEnv);
  const embeddedTemporal = userEnv.TEMPORAL_ADDRESS === undefined;
  const simulatorEntry = path.join(projectRoot, 'dev', 'simulator', 'main.ts');
  const runSimulator = !userConfig.usesRealGoogle && existsSync(simulatorEntry);
  const apiPort = userConfig.env.API_PORT;
  const simPort = userConfig.env.SIMULATOR_PORT;
  const simUrl = `http://${userConfig.env.SIMULATOR_HOST}:${simPort}`;
  const apiUrl = `http://${userConfig.env.API_HOST}:${apiPort}`;

  const wanted: [number, string][] = [[apiPort, 'API_PORT (the API)']];
  if (embeddedTemporal)
    wanted.push([TEMPORAL_PORT, 'the Temporal dev server (gRPC)'], [TEMPORAL_UI_PORT, 'the Temporal Web UI']);
  if (runSimulator) wanted.push([simPort, 'SIMULATOR_PORT (the simulator)']);
  // The worker's Prometheus exporter: a taken port would stop the worker right after it started.
  const metricsAddress = userConfig.env.WORKER_METRICS_ADDRESS;
  if (metricsAddress !== 'off')
    wanted.push([
      Number(metricsAddress.slice(metricsAddress.lastIndexOf(':') + 1)),
      "WORKER_METRICS_ADDRESS (the worker's Prometheus exporter; set it to off or another host:port)",
    ]);
  for (const [port, what] of wanted) {
    if (!(await isPortFree(port))) {
      console.error(
        `Port ${port} is already taken; it is needed for ${what}. Stop whatever listens there (or another \`npm start\`), or change the port, and try again.`,
      );
      process.exit(1);
    }
  }

  const serviceAccountFile = path.join(dataDir, 'dev', 'service-account.json');
  // A dev payload key in .data/dev (created once), the codec endpoint, and the UI pointed at it.
  const privacy = devPayloadPrivacy({
    dataDir,
    apiUrl,
    uiOrigins: [`http://127.0.0.1:${TEMPORAL_UI_PORT}`, `http://localhost:${TEMPORAL_UI_PORT}`],
    userEnv,
  });
  const childEnv: Record<string, string | undefined> = {
    ...privacy.env,
    // Readable lines in the terminal; LOG_FORMAT=json in the environment keeps JSON.
    LOG_FORMAT: 'pretty',
    RBM_CLIENT_TOKEN: DEV_CLIENT_TOKEN,
    BM_CLIENT_TOKEN: DEV_CLIENT_TOKEN,
    API_TOKEN: DEV_API_TOKEN,
    ROUTING_FILE: path.join(projectRoot, 'config', 'routing.example.yaml'),
    TEMPORAL_ADDRESS: `127.0.0.1:${TEMPORAL_PORT}`,
    ...(runSimulator
      ? {
          RBM_API_BASE_URL: simUrl,
          BM_API_BASE_URL: simUrl,
          TWILIO_BASE_URL: simUrl,
          TWILIO_ACCOUNT_SID: 'ACdev00000000000000000000000000000',
          TWILIO_AUTH_TOKEN: 'switchboard-dev-twilio-token',
          SMS_FROM: '+15550001111',
          GOOGLE_APPLICATION_CREDENTIALS: serviceAccountFile,
          SIMULATOR_SERVICE_ACCOUNT_FILE: serviceAccountFile,
          SIMULATOR_WEBHOOK_BASE_URL: apiUrl,
          HANDOFF_URL: `${simUrl}/desk/handoffs`,
          HANDOFF_SECRET: 'switchboard-dev-handoff-secret',
          AUTH_CODE_URL: `${simUrl}/desk/auth-codes`,
          AUTH_CODE_SECRET: 'switchboard-dev-auth-code-secret',
        }
      : {}),
    ...userEnv,
  };
  const children: ManagedChild[] = [];
  let temporalServer: DevServer | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log('\nStopping Switchboard…');
    for (const child of [...children].reverse()) await child.stop();
    await temporalServer?.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    await startStack();
  } catch (err) {
    console.error(`Could not start the stack: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  }

  async function startStack(): Promise<void> {
    // `file` from the project root: the product's entry points under src/, the simulator under dev/.
    const node = (name: string, file: string) =>
      new ManagedChild(name, process.execPath, ['--import', 'tsx', path.join(projectRoot, file)], childEnv);

    if (embeddedTemporal) {
      console.log('Starting the Temporal dev server (state in .data/temporal/)…');
      const startDevServer = () =>
        DevServer.start({
          cliPath: readTemporalBinaries().cli,
          port: TEMPORAL_PORT,
          uiPort: TEMPORAL_UI_PORT,
          uiCodecEndpoint: privacy.uiCodecEndpoint,
          dbFile: path.join(dataDir, 'temporal', 'dev.sqlite'),
          output: 'inherit',
        });
      temporalServer = await startDevServer();
      // Supervised like the other children: restarted on its data file with a back-off.
      const supervise = async (server: DevServer, restarts: number): Promise<void> => {
        await server.exited;
        if (shuttingDown) return;
        const delayMs = Math.min(30_000, 1000 * 2 ** Math.min(restarts, 5));
        console.error(
          `[temporal] dev server exited unexpectedly; restarting in ${delayMs / 1000} s (restart ${restarts + 1})`,
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (shuttingDown) return;
        try {
          temporalServer = await startDevServer();
          void supervise(temporalServer, 0);
        } catch (err) {
          console.error(`[temporal] restart failed: ${err instanceof Error ? err.message : String(err)}`);
          void supervise(server, restarts + 1);
        }
      };
      void supervise(temporalServer, 0);
    }
    const childConfig = loadConfig(childEnv);
    const connection = await Connection.connect(childConfig.temporal.connection);
    await ensureSearchAttributes(connection, childConfig.temporal.namespace);
    await connection.close();

    if (runSimulator) {
      children.push(node('simulator', 'dev/simulator/main.ts'));
      await waitForHttp(`${simUrl}/sim/calls`, 30_000);
    }
    children.push(node('worker', 'src/worker.ts'));
    children.push(node('api', 'src/server.ts'));
    await waitForHttp(`${apiUrl}/healthz`, 60_000);

    const apiTokenNote = userEnv.API_TOKEN ? 'API_TOKEN from your environment' : `dev token: ${DEV_API_TOKEN}`;
    const lines = [
      'Switchboard is up.',
      `  API              ${apiUrl}  (health: ${apiUrl}/healthz; operator API bearer ${apiTokenNote})`,
      `  Webhooks         ${apiUrl}/webhooks/rbm  ${apiUrl}/webhooks/bm`,
      `  API docs         ${apiUrl}/docs  (${apiUrl}/openapi.json; metrics: ${apiUrl}/metrics)`,
      ...(metricsAddress !== 'off' ? [`  Worker metrics   http://${metricsAddress}/metrics`] : []),
      `  Temporal         ${childConfig.temporal.connection.address}, namespace ${childConfig.temporal.namespace}${embeddedTemporal ? ' (embedded dev server)' : ''}`,
      ...(embeddedTemporal
        ? [`  Temporal Web UI  http://127.0.0.1:${TEMPORAL_UI_PORT}  (decodes payloads through ${apiUrl}/codec)`]
        : []),
      `  Payloads         ${privacy.summary}`,
      runSimulator ? `  Simulator        ${simUrl}  (recorded calls: ${simUrl}/sim/calls)` : '  Simulator        off',
      'Press Ctrl-C to stop.',
    ];
    console.log('\n' + lines.join('\n'));
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
