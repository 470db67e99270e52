import { condition, setHandler, upsertMemo } from '@temporalio/workflow';

import {
  type UnrecognizedPayload,
  unrecognizedPayloadChunkQuery,
  unrecognizedPayloadChunkSignal,
  unrecognizedPayloadDeliveredSignal,
  unrecognizedPayloadDismissedSignal,
  unrecognizedPayloadQuery,
  unrecognizedPayloadReplayedSignal,
  type UnrecognizedPayloadView,
} from './definitions';

/** Replays remembered per payload: enough to see what was tried, bounded against a replay loop. */
const MAX_REPLAYS = 20;

/**
 * Keeps one correctly signed webhook payload that the receiving build did not recognize, until an
 * operator replays it successfully or dismisses it. One workflow per payload (id = digest of the
 * signed bytes) rather than one store for all: each history stays small however large the bodies
 * are, Google's redeliveries land on the same workflow, and Temporal's visibility lists them.
 */
export async function unrecognizedPayloadWorkflow(
  payload: UnrecognizedPayload,
): Promise<Omit<UnrecognizedPayloadView, 'bodyBase64'>> {
  const view: UnrecognizedPayloadView = { ...payload, status: 'pending', deliveries: { count: 0 }, replays: [] };

  setHandler(unrecognizedPayloadDeliveredSignal, ({ at }) => {
    view.deliveries = { count: view.deliveries.count + 1, firstAt: view.deliveries.firstAt ?? at, lastAt: at };
  });
  setHandler(unrecognizedPayloadReplayedSignal, (replay) => {
    view.replays.push(replay);
    if (view.replays.length > MAX_REPLAYS) view.replays.shift();
    if (replay.resolved && view.status === 'pending') view.status = 'replayed';
  });
  setHandler(unrecognizedPayloadDismissedSignal, ({ at }) => {
    if (view.status !== 'pending') return;
    view.status = 'dismissed';
    view.dismissedAt = at;
  });
  setHandler(unrecognizedPayloadQuery, () => view);
  // A body kept in parts (too large for one payload): each part is its own signal and query answer.
  const parts: (string | undefined)[] = [payload.bodyBase64];
  setHandler(unrecognizedPayloadChunkSignal, ({ index, data }) => {
    if (Number.isInteger(index) && index > 0 && index < (payload.bodyChunks ?? 1)) parts[index] = data;
  });
  setHandler(unrecognizedPayloadChunkQuery, (index) => parts[index] ?? null);

  await condition(() => view.status !== 'pending');
  // Visibility lists read the memo: closed entries then show how they were closed without a query.
  upsertMemo({ status: view.status });
  // The result is what an operator sees of a closed entry; the body stays in the start event only.
  const { bodyBase64: _body, ...summary } = view;
  return summary;
}
