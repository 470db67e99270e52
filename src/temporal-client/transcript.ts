import { type Client } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { type temporal } from '@temporalio/proto';

import { type InboundEvent } from '../domain/inbound';
import { type SendMessageArgs } from '../domain/ports';
import { summarize } from '../workflows/conversation-state';
import { inboundEventsSignal } from '../workflows/definitions';

/** One line of a conversation's full transcript. */
export interface TranscriptEntry {
  direction: 'inbound' | 'outbound';
  messageId: string;
  kind: string;
  summary: string;
  at: string;
  runId: string;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function eventTime(event: HistoryEvent): string {
  const seconds = Number(event.eventTime?.seconds ?? 0);
  const nanos = event.eventTime?.nanos ?? 0;
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString();
}

/**
 * The whole conversation, every run included, read back from Temporal's own event histories: each
 * inbound signal and each outbound send is recorded there, for the namespace's retention period.
 * The workflow's query holds only a recent window; this is the operator's full record, with no
 * second store to keep in step.
 */
export async function readTranscript(client: Client, workflowId: string): Promise<TranscriptEntry[]> {
  const converter = client.options.loadedDataConverter;
  const escaped = workflowId.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${escaped}'` }))
    runs.push({ runId: execution.runId, startTime: execution.startTime });
  // Visibility lags a little behind a run that has just started: add the current run if missing.
  const current = await client.workflow.getHandle(workflowId).describe();
  if (!runs.some((r) => r.runId === current.runId)) runs.push({ runId: current.runId, startTime: current.startTime });
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());

  const entries: TranscriptEntry[] = [];
  const seen = new Set<string>();
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    for (const event of history.events ?? []) {
      const signaled = event.workflowExecutionSignaledEventAttributes;
      if (signaled?.signalName === inboundEventsSignal.name) {
        const [events] = (await decodeArrayFromPayloads(converter, signaled.input?.payloads)) as [InboundEvent[]];
        for (const e of events ?? []) {
          if (e.type !== 'message' || seen.has(e.dedupeKey)) continue;
          seen.add(e.dedupeKey);
          entries.push({
            direction: 'inbound',
            messageId: e.messageId,
            kind: e.content.kind,
            summary: summarize(e.content),
            at: e.occurredAt ?? e.receivedAt,
            runId,
          });
        }
      }
      const scheduled = event.activityTaskScheduledEventAttributes;
      // Automation's answers since issue 14 carry their question's READ receipt: the same send.
      if (scheduled?.activityType?.name === 'sendMessage' || scheduled?.activityType?.name === 'replyWithReadReceipt') {
        const [args] = (await decodeArrayFromPayloads(converter, scheduled.input?.payloads)) as [SendMessageArgs];
        if (!args || seen.has(`out:${args.messageId}`)) continue;
        seen.add(`out:${args.messageId}`);
        entries.push({
          direction: 'outbound',
          messageId: args.messageId,
          kind: args.content.richCard ? 'rich' : 'text',
          summary: args.content.text ?? '[rich content]',
          at: eventTime(event),
          runId,
        });
      }
    }
  }
  return entries;
}
