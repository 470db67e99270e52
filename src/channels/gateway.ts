/**
 * ChannelGateway over the real clients: each call is dispatched on the conversation key's channel
 * (`rbm:{agentId}:{msisdn}` → RBM, `bm:{conversationId}` → Business Messages). Where a channel has
 * no such operation (RBM typing stop, RBM representative events, BM revoke) the call is a
 * documented no-op rather than an error, so workflows stay channel-neutral.
 */
import {
  InvalidConversationKeyError,
  maskConversationKey,
  parseConversationKey,
  type ParsedConversationKey,
} from '../domain/conversation-key';
import { FailureType } from '../domain/errors';
import {
  type ChannelGateway,
  type RevokeArgs,
  type RevokeOutcome,
  type SendMessageArgs,
  type SendReadReceiptArgs,
  type SendRepresentativeEventArgs,
  type SendTypingArgs,
} from '../domain/ports';
import { type Logger } from '../logger';
import { type BmClient } from './bm/client';
import { toBmMessage, toBmRepresentative } from './bm/content';
import { permanentFailure } from './failures';
import { type RbmClient } from './rbm/client';
import { toRbmAgentMessage } from './rbm/content';

export interface ChannelGatewayOptions {
  /** Unset when RBM is not configured: its calls fail with NotConfigured. */
  rbm?: RbmClient;
  /** Unset when Business Messages is not configured. */
  bm?: BmClient;
  /** RBM messageTrafficType used when the workflow does not pick one. */
  rbmMessageTrafficType?: string;
  logger: Logger;
  now?: () => Date;
}

type Rbm = Extract<ParsedConversationKey, { channel: 'rbm' }>;
type Bm = Extract<ParsedConversationKey, { channel: 'bm' }>;

export function createChannelGateway(options: ChannelGatewayOptions): ChannelGateway {
  const now = options.now ?? (() => new Date());

  const parse = (key: string): ParsedConversationKey => {
    try {
      return parseConversationKey(key);
    } catch (err) {
      if (err instanceof InvalidConversationKeyError) throw permanentFailure(err.message, FailureType.InvalidRequest);
      throw err;
    }
  };
  const rbm = (): RbmClient => options.rbm ?? notConfigured('RBM (set GOOGLE_APPLICATION_CREDENTIALS)');
  const bm = (): BmClient => options.bm ?? notConfigured('Business Messages (set GOOGLE_APPLICATION_CREDENTIALS)');
  const log = (msg: string, key: string, fields: Record<string, unknown>) =>
    options.logger.debug(msg, { conversation: maskConversationKey(key), ...fields });

  async function sendRbm(target: Rbm, args: SendMessageArgs) {
    const message = toRbmAgentMessage({
      content: args.content,
      ...(args.ttl !== undefined ? { ttl: args.ttl } : {}),
      ...(args.expireTime !== undefined ? { expireTime: args.expireTime } : {}),
      ...((args.messageTrafficType ?? options.rbmMessageTrafficType)
        ? { messageTrafficType: args.messageTrafficType ?? options.rbmMessageTrafficType }
        : {}),
    });
    const sent = await rbm().createAgentMessage({
      agentId: target.agentId,
      msisdn: target.msisdn,
      messageId: args.messageId,
      message,
    });
    return { sentAt: sent.sendTime ?? now().toISOString(), duplicate: sent.duplicate };
  }

  async function sendBm(target: Bm, args: SendMessageArgs) {
    const sent = await bm().createMessage(
      target.conversationId,
      toBmMessage(args.messageId, args.content, args.representative),
    );
    return { sentAt: sent.createTime ?? now().toISOString(), duplicate: sent.duplicate };
  }

  return {
    async sendMessage(args: SendMessageArgs) {
      const target = parse(args.conversationKey);
      const sent = target.channel === 'rbm' ? await sendRbm(target, args) : await sendBm(target, args);
      log('message sent', args.conversationKey, { messageId: args.messageId, duplicate: sent.duplicate });
      return { sentAt: sent.sentAt };
    },

    async sendReadReceipt(args: SendReadReceiptArgs) {
      const target = parse(args.conversationKey);
      if (target.channel === 'rbm') {
        await rbm().createAgentEvent({
          agentId: target.agentId,
          msisdn: target.msisdn,
          eventId: args.eventId,
          event: { eventType: 'READ', messageId: args.messageId },
        });
      } else {
        await bm().markRead(target.conversationId, args.messageId);
      }
      log('read receipt sent', args.conversationKey, { messageId: args.messageId });
    },

    async sendTyping(args: SendTypingArgs) {
      const target = parse(args.conversationKey);
      if (target.channel === 'rbm') {
        // RBM has only IS_TYPING; the indicator clears itself (~20 s) or with the next message.
        if (args.typing === 'stop') return;
        await rbm().createAgentEvent({
          agentId: target.agentId,
          msisdn: target.msisdn,
          eventId: args.eventId,
          event: { eventType: 'IS_TYPING' },
        });
        return;
      }
      await bm().createEvent(
        target.conversationId,
        args.eventId,
        args.typing === 'start' ? 'TYPING_STARTED' : 'TYPING_STOPPED',
        toBmRepresentative(args.representative),
      );
    },

    async sendRepresentativeEvent(args: SendRepresentativeEventArgs) {
      const target = parse(args.conversationKey);
      // RBM has no representative concept: nothing to tell the user's device.
      if (target.channel === 'rbm') return;
      const eventType = args.event === 'joined' ? 'REPRESENTATIVE_JOINED' : 'REPRESENTATIVE_LEFT';
      await bm().createEvent(target.conversationId, args.eventId, eventType, toBmRepresentative(args.representative));
    },

    async revokeMessage(args: RevokeArgs): Promise<RevokeOutcome> {
      const target = parse(args.conversationKey);
      // Business Messages has no revoke: report "not revoked" so the workflow does not assume it was.
      if (target.channel === 'bm') return 'not_revoked';
      const outcome = await rbm().revokeAgentMessage({
        agentId: target.agentId,
        msisdn: target.msisdn,
        messageId: args.messageId,
      });
      log('revoke answered', args.conversationKey, { messageId: args.messageId, outcome });
      return outcome;
    },
  };
}

function notConfigured(what: string): never {
  throw permanentFailure(`${what} is not configured`, FailureType.NotConfigured);
}
