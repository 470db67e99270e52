/**
 * History ⇄ Temporal's JSON history format (proto3 JSON, as `temporal workflow show --output json`
 * writes it).
 *
 * Why not `historyToJSON` / `historyFromJSON` from `@temporalio/common/lib/proto-utils` (which
 * `Worker.runReplayHistory` also calls for JSON input)? In this install they throw
 * "TypeError: type must be a Type": npm could not hoist protobufjs 8 (grpc and OpenTelemetry keep
 * protobufjs 7 at the top level), so `@temporalio/common` and `@temporalio/proto` each got their
 * own nested copy, and common's protojson rejects the History type built by proto's copy
 * (an `instanceof` check). Here protojson is loaded from the very protobufjs copy that
 * `@temporalio/proto` uses, through one plain Node `require`, so the two always match, hoisted or
 * not. The replay test then hands decoded History objects to the worker, which skips its own
 * JSON conversion for them.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

import { type History } from '@temporalio/common/lib/proto-utils';

interface MessageType {
  fromObject(object: unknown): unknown;
}
interface ProtoRoot {
  lookupType(name: string): MessageType;
}
interface ProtoJson {
  toJson(type: MessageType, message: unknown): unknown;
  fromJson(type: MessageType, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

const nodeRequire = createRequire(__filename);
const protoRoot = nodeRequire('@temporalio/proto') as ProtoRoot;
const protojson = nodeRequire(
  nodeRequire.resolve('protobufjs/ext/protojson', { paths: [path.dirname(nodeRequire.resolve('@temporalio/proto'))] }),
) as ProtoJson;
const historyType = protoRoot.lookupType('temporal.api.history.v1.History');

/** A history (e.g. from `handle.fetchHistory()`) as proto3 JSON, ready for JSON.stringify. */
export function historyToJsonObject(history: History): unknown {
  return protojson.toJson(historyType, historyType.fromObject(history));
}

/** A proto3 JSON history back to a History message (event ids as Long, as the worker expects). */
export function historyFromJsonObject(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new TypeError('not a workflow history: no events');
  return history;
}
