import { type ActivityDeps } from '../activities';
import { type Config } from '../config';
import { parseConversationKey } from '../domain/conversation-key';

/**
 * Minimal channel gateway for the first slice: posts an RBM READ agent event to the configured
 * base URL. Replaced by the real RBM / Business Messages clients.
 */
export function createSliceChannelGateway(config: Config): ActivityDeps['channels'] {
  return {
    async sendReadReceipt({ conversationKey, messageId }) {
      const parsed = parseConversationKey(conversationKey);
      if (parsed.channel !== 'rbm' || !config.env.RBM_API_BASE_URL) return;
      const url = new URL(`/v1/phones/${encodeURIComponent(parsed.msisdn)}/agentEvents`, config.env.RBM_API_BASE_URL);
      url.searchParams.set('eventId', `read-${messageId}`);
      url.searchParams.set('agentId', parsed.agentId);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ eventType: 'READ', messageId }) });
      if (!res.ok) throw new Error(`RBM agentEvents answered ${res.status}`);
    },
  };
}
