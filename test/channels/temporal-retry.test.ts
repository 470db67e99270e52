/**
 * Temporal is the one retry owner: the real activities (built by buildActivityDeps from config)
 * run in a real worker on the dev server, the conversation workflow marks a message READ, the
 * simulator answers the first agent event 429 with Retry-After, and Temporal's activity retry
 * comes back no sooner than that, with the same eventId.
 */
import { randomUUID } from 'node:crypto';

import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';

import { createActivities } from '../../src/activities';
import { buildActivityDeps } from '../../src/activities/deps';
import { loadConfig } from '../../src/config';
import { rbmConversationKey } from '../../src/domain/conversation-key';
import { type InboundEvent } from '../../src/domain/inbound';
import { silentLogger } from '../../src/logger';
import { inboundEventsSignal, markReadUpdate } from '../../src/workflows/definitions';
import { startReceiver, startTestPlatform, type TestPlatform } from '../helpers/simulator';
import { createDevServerEnv, devServerAddress, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

const AGENT = 'retry@rbm.goog';
const RETRY_AFTER_S = 3;

describe('activity retries against the simulator on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let platform: TestPlatform;
  /** The human desk: without routing the workflow hands the message over before anyone marks it read. */
  let desk: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    // The first attempt fails on purpose: keep the SDK's WARN line about it out of the output.
    try {
      Runtime.install({
        logger: new DefaultLogger('ERROR'),
        telemetryOptions: {
          logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) },
        },
      });
    } catch {
      // Already installed by an earlier file in this Jest worker: only the log level differs.
    }
    env = await createDevServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  beforeEach(async () => {
    platform = await startTestPlatform({ defaults: { deliverAfterMs: null } });
    desk = await startReceiver();
  });
  afterEach(async () => {
    await platform.stop();
    await desk.close();
  });

  test('429 with Retry-After: Temporal retries no sooner than Retry-After, with the same eventId', async () => {
    const taskQueue = uniqueTaskQueue('retry');
    const config = loadConfig({
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      RBM_API_BASE_URL: platform.url,
      GOOGLE_APPLICATION_CREDENTIALS: platform.keyFile,
      OUTBOUND_HTTP_TIMEOUT_MS: '2000',
      HANDOFF_URL: `${desk.url}/handoffs`,
      HANDOFF_SECRET: 'desk-secret',
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: createActivities(buildActivityDeps(config, silentLogger)),
    });
    platform.sim.addFault({
      api: 'rbm',
      pathContains: 'agentEvents',
      status: 429,
      retryAfterSeconds: RETRY_AFTER_S,
      times: 1,
    });

    const msisdn = '+14155550188';
    const key = rbmConversationKey(AGENT, msisdn);
    const messageId = `user-${randomUUID()}`;
    const event: InboundEvent = {
      type: 'message',
      dedupeKey: messageId,
      channel: 'rbm',
      conversationKey: key,
      receivedAt: new Date().toISOString(),
      messageId,
      content: { kind: 'text', text: 'hello' },
    };
    const workflowId = `retry-test-${randomUUID()}`;

    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart('conversationWorkflow', {
        workflowId,
        taskQueue,
        args: [{ key }],
        signal: inboundEventsSignal,
        signalArgs: [[event]],
      });
      try {
        const result = await handle.executeUpdate(markReadUpdate, {
          args: [{ agentId: 'ana', messageIds: [messageId] }],
        });
        expect(result).toEqual({ marked: [messageId] });
      } finally {
        await handle.terminate('test over');
      }
    });

    const attempts = platform.sim.calls({ api: 'rbm' }).filter((c) => c.path.endsWith('/agentEvents'));
    expect(attempts.map((c) => [c.status, c.query.eventId])).toEqual([
      [429, `read-${messageId}`],
      [200, `read-${messageId}`],
    ]);
    const [first, second] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
    // The workflow's own backoff would have retried after 1 s; Retry-After wins.
    expect(Date.parse(second.time) - Date.parse(first.time)).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000);
    expect(second.body).toEqual({ eventType: 'READ', messageId });
  });
});
