import { type AddressInfo } from 'node:net';

import { serve } from '@hono/node-server';

import { createSimulator, type Simulator, type SimulatorOptions } from './simulator';

export interface RunningSimulator {
  sim: Simulator;
  /** http://host:port the simulator listens on. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Creates the simulator and serves it over HTTP. Port 0 picks a free port; unless `publicUrl` is
 * given, the simulator then names itself by the address it got (token_uri of its key).
 */
export async function startSimulator(
  options: SimulatorOptions & { host?: string; port?: number } = {},
): Promise<RunningSimulator> {
  const { host = '127.0.0.1', port = 0, ...simOptions } = options;
  const sim = createSimulator(simOptions);
  const { server, address } = await new Promise<{ server: ReturnType<typeof serve>; address: AddressInfo }>(
    (resolve, reject) => {
      const s = serve({ fetch: sim.app.fetch, hostname: host, port }, (info) => resolve({ server: s, address: info }));
      s.once('error', reject);
    },
  );
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  if (!options.publicUrl) sim.setPublicUrl(url);
  return {
    sim,
    url,
    port: address.port,
    close: async () => {
      sim.close();
      // Held requests and keep-alive sockets would keep close() waiting.
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
