import { allHandlersFinished, condition, continueAsNew, log, patched, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { maskPhone } from '../domain/conversation-key';
import { type OutboundContent } from '../domain/outbound';
import { localActivities } from './activity-proxies';
import { resolveSettings } from './conversation-settings';
import { COST_PATCHES } from './cost-patches';
import { type ConversationSnapshot, ConversationState } from './conversation-state';
import { type CarriedConversation, conversationStateQuery, type ConversationInput, inboundEventsSignal } from './definitions';
import { HandoffController } from './handoff';
import { handleLiveAgentRequest, handleUserMessage } from './message-handling';
import { holdingMessage } from '../routing';
import { ConversationRouting } from './routing-version';
import { registerOperatorHandlers } from './operator-handlers';
import { OutboundTracker, registerOutboundHandlers } from './outbound';
import { sendReply } from './replies';
import { SearchAttributeSync } from './search-attribute-sync';
import { TypingIndicator } from './typing';

/** Used only when no routing file is configured (the routing file has localized ones). */
const DEFAULT_HOLDING_MESSAGE: OutboundContent = { text: 'Thanks for waiting: an agent will be with you shortly.' };

/**
 * One long-lived workflow per conversation. It accepts the webhook's events (deduped), keeps the
 * conversation's history, routes each user message, hands off to humans, and continues as new
 * when the history grows; after a quiet period it completes, returning what a reopened run needs.
 */
export async function conversationWorkflow(input: ConversationInput): Promise<CarriedConversation> {
  const settings = resolveSettings(input.settings);
  const routing = new ConversationRouting(input);
  // Asked before the first await: a patch marker belongs to the first task, whatever its local activities do.
  const initialAttributes = patched(COST_PATCHES.initialSearchAttributes) ? workflowInfo().typedSearchAttributes : undefined;
  const state = new ConversationState(input.key, settings, input.carried?.conversation);
  const typing = new TypingIndicator(state, settings.typingKeepAlive);
  // A fresh run (not continued) may be a reopened conversation: outbound sends wait until the
  // previous run's idempotency keys are loaded, so a retried POST cannot send twice.
  const freshRun = !input.carried && workflowInfo().continuedFromExecutionRunId === undefined;
  const outbound = new OutboundTracker(input.key, input.carried?.outbound, {
    waitForPrevious: freshRun,
    onAccepted: (message) => {
      state.addHistory({ direction: 'outbound', messageId: message.messageId, kind: 'text', summary: message.summary, at: new Date(message.acceptedAtMs).toISOString() });
      // The message clears the channel's typing indicator itself.
      void typing.stop(false);
    },
  });
  const handoff = new HandoffController({
    state,
    sla: settings.handoffSla,
    reply: (content) => sendReply(state, outbound, content),
    holdingMessage: () => (routing.config ? holdingMessage(state.routing, routing.config) : DEFAULT_HOLDING_MESSAGE),
  });
  const handling = {
    state,
    handoff,
    typing,
    get routing() {
      return routing.config;
    },
    reply: (content: OutboundContent) => sendReply(state, outbound, content),
  };
  let liveAgentRequested = false;

  setHandler(inboundEventsSignal, (events) => {
    routing.noteEvents(events);
    for (const event of state.accept(events)) {
      if (event.type === 'receipt' || event.type === 'ttl_expired') outbound.onInboundEvent(event);
      else if (event.type === 'live_agent_requested') liveAgentRequested = true;
    }
  });
  setHandler(conversationStateQuery, () => state.view());
  registerOperatorHandlers({ state, handoff, typing });
  registerOutboundHandlers(outbound);

  // The routing file of the start's version, in the same task as the previous run's memory.
  const routingLoaded = routing.needsLoad ? routing.load() : undefined;
  // A new message reopening a completed conversation: pick up the previous run's memory.
  if (freshRun) {
    const previous = (await localActivities.loadPreviousRun(workflowInfo().workflowId)) as CarriedConversation | undefined;
    if (previous?.conversation) state.absorbPrevious(previous.conversation);
    outbound.absorbPrevious(previous?.outbound);
  }
  if (routingLoaded) await routingLoaded;
  handoff.resume();
  const attributes = new SearchAttributeSync(state, initialAttributes);
  attributes.sync();

  const shouldContinueAsNew = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > settings.continueAsNewAfterEvents;

  for (;;) {
    const woke = await condition(() => state.pending.length > 0 || liveAgentRequested || shouldContinueAsNew(), settings.idleTimeout);
    if (!woke) {
      // A message still waiting for DELIVERED (or its fallback) keeps the conversation open.
      if (outbound.hasPendingWork) continue;
      break;
    }
    if (routing.stale) await routing.refresh();
    if (liveAgentRequested) {
      liveAgentRequested = false;
      await handleLiveAgentRequest(handling);
    }
    const message = state.pending.shift();
    if (message) {
      await handleUserMessage(message, handling);
    }
    attributes.sync();
    const displayName = state.routing.displayName;
    if (displayName && !attributes.memoSet) {
      upsertMemo({ displayName: maskDisplayName(displayName), conversation: state.channel === 'rbm' ? 'rbm (number masked)' : input.key });
      attributes.memoSet = true;
    }
    if (shouldContinueAsNew() && state.pending.length === 0 && !outbound.busy) {
      await condition(allHandlersFinished);
      log.info('continuing as new', { historyLength: workflowInfo().historyLength });
      await continueAsNew<typeof conversationWorkflow>({ ...input, ...routing.carryInput(), carried: carry(state.snapshot(), outbound) });
    }
  }

  state.closed = true;
  attributes.sync();
  await condition(allHandlersFinished);
  log.info('conversation idle, closing');
  return carry(state.snapshot(), outbound);
}

function carry(conversation: ConversationSnapshot, outbound: OutboundTracker): CarriedConversation {
  return { conversation, outbound: outbound.snapshot() };
}

/** "Maria Gonzalez" → "M. G." : enough to recognise a conversation in the UI, not to identify a person. */
function maskDisplayName(name: string): string {
  const initials = name
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => `${part[0] ?? ''}.`);
  return initials.join(' ') || maskPhone(name);
}
