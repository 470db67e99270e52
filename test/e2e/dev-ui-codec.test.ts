/**
 * `npm start`'s wiring of privacy at rest (dev/devstack/payload-privacy.ts, DevServer's
 * --ui-codec-endpoint): a dev key is generated, the API encrypts with it, the dev server's Web UI
 * is configured with the codec endpoint, and a request the way the UI's browser code makes it
 * (preflight, then POST …/decode with X-Namespace from the UI's origin) gets the plaintext back,
 * while what the UI server itself hands out is ciphertext.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';

import { readTemporalBinaries } from '../../dev/binaries';
import { DevServer } from '../../dev/dev-server';
import { devPayloadPrivacy } from '../../dev/devstack/payload-privacy';
import { createApp } from '../../src/api/app';
import { DEV_CODEC_TOKEN, loadConfig, requirePayloadEncryption } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { freePort } from '../helpers/ports';

const SECRET = `the gate code is ${Math.floor(Math.random() * 1e6)}`;
type JsonPayload = { metadata?: Record<string, string>; data?: string };

describe("npm start's dev UI decodes through the codec endpoint", () => {
  let dataDir: string;
  let server: DevServer;
  let http: Server;
  let apiUrl: string;
  let uiUrl: string;
  let privacy: ReturnType<typeof devPayloadPrivacy>;
  let apiClient: Client;
  let connection: Connection;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'switchboard-dev-ui-'));
    const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    uiUrl = `http://127.0.0.1:${uiPort}`;
    privacy = devPayloadPrivacy({ dataDir, apiUrl, uiOrigins: [uiUrl], userEnv: {} });
    server = await DevServer.start({
      cliPath: readTemporalBinaries().cli,
      port,
      uiPort,
      uiCodecEndpoint: privacy.uiCodecEndpoint,
    });
    const config = loadConfig({ ...privacy.env, TEMPORAL_ADDRESS: server.address });
    requirePayloadEncryption(config);
    apiClient = createLazyClient(config.temporal);
    const app = createApp({
      config,
      logger: silentLogger,
      conversations: new ConversationsClient({
        client: apiClient,
        taskQueue: 'unpolled',
        timeoutMs: 5000,
        workflowIds: { revealPhoneNumbers: false, secret: 'x' },
      }),
    });
    http = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: apiPort }, () => resolve(s as Server));
    });
    connection = await Connection.connect({ address: server.address });
  }, 120_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    await apiClient?.connection.close();
    await connection?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a dev key is generated in the data folder, and the processes run in development mode with encryption on', () => {
    expect(privacy.createdKey).toBe(true);
    expect(privacy.keyFile).toBe(path.join(dataDir, 'dev', 'payload-keys'));
    expect(privacy.env).toMatchObject({
      SWITCHBOARD_MODE: 'development',
      PAYLOAD_ENCRYPTION_KEY_FILE: privacy.keyFile,
      CODEC_SERVER_TOKEN: DEV_CODEC_TOKEN,
      CODEC_SERVER_CORS_ORIGINS: uiUrl,
    });
    expect(loadConfig(privacy.env).temporal.payloadEncryption.encrypt).toBe(true);
    expect(devPayloadPrivacy({ dataDir, apiUrl, uiOrigins: [uiUrl], userEnv: {} }).createdKey).toBe(false);
  });

  test('the Web UI is configured with the codec endpoint, and decodes what the UI server only has as ciphertext', async () => {
    const settings = (await (await fetch(`${uiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe(privacy.uiCodecEndpoint);

    const workflowId = `dev-ui-${Date.now()}`;
    await apiClient.workflow.start('conversationWorkflow', {
      workflowId,
      taskQueue: 'unpolled',
      args: [{ key: 'rbm:dev@rbm.goog:+14155550100', note: SECRET }],
    });
    const raw = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    const stored = raw.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const payload: JsonPayload = {
      metadata: Object.fromEntries(
        Object.entries(stored?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(stored?.data ?? new Uint8Array()).toString('base64'),
    };
    expect(Buffer.from(payload.data ?? '', 'base64').toString('latin1')).not.toContain(SECRET);
    // What the UI server gives the browser is what Temporal stores: ciphertext.
    const viaUi = await (await fetch(`${uiUrl}/api/v1/namespaces/default/workflows/${workflowId}/history`)).text();
    expect(viaUi).toContain('conversationWorkflow');
    expect(viaUi).not.toContain(SECRET);
    expect(viaUi).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 12));

    // The browser's preflight, then its POST, from the UI's origin.
    const preflight = await fetch(`${settings.Codec.Endpoint}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: uiUrl,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiUrl);
    const res = await fetch(`${settings.Codec.Endpoint}/decode`, {
      method: 'POST',
      headers: { origin: uiUrl, 'content-type': 'application/json', 'x-namespace': 'default' },
      body: JSON.stringify({ payloads: [payload] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(uiUrl);
    const [decoded] = ((await res.json()) as { payloads: JsonPayload[] }).payloads;
    expect(Buffer.from(decoded?.data ?? '', 'base64').toString('utf8')).toContain(SECRET);
    // The same request to the endpoint without the token in its path is refused.
    expect(
      (
        await fetch(`${apiUrl}/codec/decode`, {
          method: 'POST',
          headers: { origin: uiUrl, 'content-type': 'application/json' },
          body: JSON.stringify({ payloads: [payload] }),
        })
      ).status,
    ).toBe(401);
  });
});
