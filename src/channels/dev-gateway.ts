import { ApplicationFailure } from '@temporalio/common';
import { type ActivityDeps } from '../activities';
import { type Config } from '../config';
import { parseConversationKey } from '../domain/conversation-key';
import { FailureType } from '../domain/errors';

const notYet = (what: string) => async (): Promise<never> => {
  throw ApplicationFailure.nonRetryable(`${what} is not wired yet`, FailureType.NotConfigured);
};

/**
 * Minimal outbound wiring for the first slice: posts an RBM READ agent event to the configured
 * base URL. Replaced by the real RBM / Business Messages / SMS clients.
 */
export function buildActivityDeps(config: Config): ActivityDeps {
  return {
    channels: {
      async sendReadReceipt({ conversationKey, messageId, eventId }) {
        const parsed = parseConversationKey(conversationKey);
        if (parsed.channel !== 'rbm' || !config.env.RBM_API_BASE_URL) return;
        const url = new URL(`/v1/phones/${encodeURIComponent(parsed.msisdn)}/agentEvents`, config.env.RBM_API_BASE_URL);
        url.searchParams.set('eventId', eventId);
        url.searchParams.set('agentId', parsed.agentId);
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ eventType: 'READ', messageId }) });
        if (!res.ok) throw new Error(`RBM agentEvents answered ${res.status}`);
      },
      sendMessage: notYet('sendMessage'),
      sendTyping: notYet('sendTyping'),
      sendRepresentativeEvent: notYet('sendRepresentativeEvent'),
      revokeMessage: notYet('revokeMessage'),
    },
    sms: { sendSms: notYet('sendSms') },
    handoff: { notify: notYet('notifyHandoff') },
  };
}
