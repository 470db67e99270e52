/**
 * The one data converter of the test suite and the replay recorder: the production payload codec
 * (src/temporal/payload-codec.ts) with the test-only key of test/fixtures/payload-keys.test, so
 * what the recorder writes is what the replay test reads, and both go through the production
 * codec. Clients and workers of one test must share it (pass it to both, or to neither).
 */
import path from 'node:path';

import { type DataConverter } from '@temporalio/common';

import { projectRoot } from '../../dev/binaries';
import { payloadDataConverter, type PayloadEncryption } from '../../src/temporal/payload-codec';
import { readPayloadKeyFile } from '../../src/temporal/payload-keys';

/** Public test key file (never a deployment's). */
export const TEST_PAYLOAD_KEY_FILE = path.join(projectRoot, 'test', 'fixtures', 'payload-keys.test');

/** Encryption with the test key. */
export function testPayloadEncryption(): PayloadEncryption {
  return { keys: readPayloadKeyFile(TEST_PAYLOAD_KEY_FILE), encrypt: true };
}

/** The production codec with the test key: for Worker.create, new Client and runReplayHistories. */
export function testDataConverter(): DataConverter {
  return payloadDataConverter(testPayloadEncryption());
}
