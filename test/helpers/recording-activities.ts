import { type ActivityDeps, createActivities } from '../../src/activities';

export interface RecordedCall {
  activity: string;
  args: unknown;
}

/**
 * Activities whose channels only record what they were asked to do: for workflow-logic tests on
 * the time-skipping server. `overrides` replaces single gateway methods (e.g. to fail a send).
 */
export function recordingActivities(
  overrides: {
    channels?: Partial<ActivityDeps['channels']>;
    sms?: Partial<ActivityDeps['sms']>;
    handoff?: Partial<ActivityDeps['handoff']>;
    previousRuns?: ActivityDeps['previousRuns'];
    routing?: ActivityDeps['routing'];
  } = {},
) {
  const calls: RecordedCall[] = [];
  const record = (activity: string, args: unknown) => calls.push({ activity, args });
  const deps: ActivityDeps = {
    channels: {
      sendMessage: async (args) => (record('sendMessage', args), { sentAt: new Date().toISOString() }),
      sendReadReceipt: async (args) => void record('sendReadReceipt', args),
      sendTyping: async (args) => void record('sendTyping', args),
      sendRepresentativeEvent: async (args) => void record('sendRepresentativeEvent', args),
      revokeMessage: async (args) => (record('revokeMessage', args), 'revoked' as const),
      ...overrides.channels,
    },
    sms: {
      sendSms: async (args) => (record('sendSms', args), { providerMessageId: `SM${calls.length}` }),
      ...overrides.sms,
    },
    handoff: { notify: async (args) => void record('notifyHandoff', args), ...overrides.handoff },
    ...(overrides.previousRuns ? { previousRuns: overrides.previousRuns } : {}),
    ...(overrides.routing ? { routing: overrides.routing } : {}),
  };
  return {
    activities: createActivities(deps),
    calls,
    callsTo: (activity: string) => calls.filter((c) => c.activity === activity).map((c) => c.args),
  };
}
