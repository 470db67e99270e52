import { msToNumber } from '@temporalio/common/lib/time';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';

import { maskPhone } from '../domain/conversation-key';
import { type OutboundContent } from '../domain/outbound';
import { holdingMessage } from '../routing';
import { recordActivityFailure } from './activity-failures';
import { localActivities } from './activity-proxies';
import { resolveSettings } from './conversation-settings';
import { ConversationState } from './conversation-state';
import { COST_PATCHES } from './cost-patches';
import { type ConversationSnapshot } from './definitions';
import {
  type CarriedConversation,
  type ConversationInput,
  conversationStateQuery,
  inboundEventsSignal,
} from './definitions';
import { HandoffController } from './handoff';
import { IdleClock, MovableDeadline } from './idle-clock';
import { handleLiveAgentRequest, handleUserMessage } from './message-handling';
import { registerOperatorHandlers } from './operator-handlers';
import { OutboundTracker, registerOutboundHandlers } from './outbound';
import { evaluatePatches } from './patches';
import { ReadReceipts } from './receipts';
import { sendReply } from './replies';
import { ConversationRouting } from './routing-version';
import { SearchAttributeSync } from './search-attribute-sync';
import { TypingIndicator } from './typing';

/** Used only when no routing file is configured (the routing file has localized ones). */
const DEFAULT_HOLDING_MESSAGE: OutboundContent = { text: 'Thanks for waiting: an agent will be with you shortly.' };

/**
 * One long-lived workflow per conversation. It accepts the webhook's events (deduped), keeps the
 * conversation's history, routes each user message, hands off to humans, and continues as new
 * when the history grows. After a quiet period it continues as new into a dormant run that
 * carries its whole memory and waits for the next event (runs started before that change complete
 * instead, returning their memory).
 */
export async function conversationWorkflow(input: ConversationInput): Promise<CarriedConversation> {
  const patches = evaluatePatches();
  const settings = resolveSettings(input.settings);
  const routing = new ConversationRouting(input);
  // Asked before the first await: a patch marker belongs to the first task, whatever its local activities do.
  const initialAttributes = patched(COST_PATCHES.initialSearchAttributes)
    ? workflowInfo().typedSearchAttributes
    : undefined;
  const typingFadeByReader = patched(COST_PATCHES.typingFadeByReader);
  const readReceiptInReply = patched(COST_PATCHES.readReceiptInReply);
  const state = new ConversationState(input.key, settings, input.carried?.conversation, patches.dormantOnIdle);
  state.typingFadesFromLastEvent = typingFadeByReader;
  const typing = new TypingIndicator(
    state,
    settings.typingKeepAlive,
    patches.typingMaxDuration ? settings.typingMaxDuration : undefined,
    patches.settledBeforeContinueAsNew,
  );
  const receipts = new ReadReceipts(state);
  const idle = new IdleClock(state, msToNumber(settings.idleTimeout));
  // A fresh run (not continued) of a run started before `noPreviousRunLookup` may be a reopened
  // conversation: outbound sends wait until the previous run's idempotency keys are loaded, so a
  // retried POST cannot send twice. Newer conversations never complete on idle: nothing to load.
  const freshRun = !input.carried && workflowInfo().continuedFromExecutionRunId === undefined;
  const lookUpPreviousRun = freshRun && !patches.noPreviousRunLookup;
  const outbound = new OutboundTracker(input.key, input.carried?.outbound, {
    waitForPrevious: lookUpPreviousRun,
    readWithinNeedsReadReceipts: patches.readWithinNeedsReadReceipts,
    // An operator message that names no representative speaks as the assigned human, not as the BOT.
    defaultRepresentative: () =>
      state.assignment.kind === 'human'
        ? {
            type: 'HUMAN',
            ...(state.assignment.displayName !== undefined ? { displayName: state.assignment.displayName } : {}),
          }
        : { type: 'BOT' },
    onAccepted: (message) => {
      state.addHistory({
        direction: 'outbound',
        messageId: message.messageId,
        kind: 'text',
        summary: message.summary,
        at: new Date(message.acceptedAtMs).toISOString(),
      });
      // The message clears the channel's typing indicator itself.
      void typing.stop(false);
    },
  });
  const attributes = new SearchAttributeSync(state, initialAttributes);
  const handoff = new HandoffController({
    state,
    sla: settings.handoffSla,
    reply: (content) => sendReply(state, outbound, content),
    holdingMessage: () => (routing.config ? holdingMessage(state.routing, routing.config) : DEFAULT_HOLDING_MESSAGE),
    assignAfterEvent: patches.assignAfterEvent,
    settled: patches.settledBeforeContinueAsNew,
    onAssignmentChanged: () => attributes.sync(),
  });
  const handling = {
    state,
    handoff,
    typing,
    get routing() {
      return routing.config;
    },
    receipts,
    replyBesideReceipt: patches.replyBesideReceipt,
    bmDeviceLanguage: patches.bmDeviceLanguage,
    readReceiptInReply: readReceiptInReply && patches.replyBesideReceipt,
    reply: (content: OutboundContent, options?: { readReceiptFor?: string }) =>
      sendReply(state, outbound, content, options),
  };

  /** A dormant run woken by the user reopens an open handoff before the message is handled. */
  let reopenHandoff = false;
  /** Something happened (issue 11 idle clock): a dormant run wakes up, the idle deadline moves. */
  const activity = (byUser: boolean) => {
    if (!patches.dormantOnIdle) return;
    if (state.dormant) {
      state.dormant = false;
      if (byUser) reopenHandoff = true;
      attributes.sync();
    }
    idle.touch();
  };

  // A user's typing state clears ~20 s after their last typing event instead of never (by a timer
  // in runs started before COST_PATCHES.typingFadeByReader; newer ones leave it to the view's
  // readers).
  const userTypingFade = new MovableDeadline(
    () => state.userTypingFadesAt(),
    () => state.clearUserTyping(),
  );
  setHandler(inboundEventsSignal, (events) => {
    routing.noteEvents(events);
    for (const event of state.accept(events)) {
      if (event.type === 'typing' && event.isTyping && patches.dormantOnIdle && !typingFadeByReader)
        userTypingFade.arm();
      if (event.type === 'receipt' || event.type === 'ttl_expired') outbound.onInboundEvent(event);
      else if (event.type === 'live_agent_requested') state.liveAgentRequested = true;
      if (event.type === 'message' || event.type === 'live_agent_requested') activity(true);
    }
  });
  setHandler(conversationStateQuery, () => state.view());
  registerOperatorHandlers({
    state,
    handoff,
    typing,
    receipts,
    receiptAfterSuccess: patches.replyBesideReceipt,
    onOperatorActivity: () => activity(false),
  });
  registerOutboundHandlers(outbound, () => activity(false));

  // The routing file of the start's version, in the same task as the previous run's memory.
  const routingLoaded = routing.needsLoad ? routing.load() : undefined;
  if (lookUpPreviousRun) {
    // Runs started before `noPreviousRunLookup`: their reopened conversation picks up the previous
    // run's memory. A failed lookup (visibility rate-limited) is recorded, never fatal.
    let previous: CarriedConversation | undefined;
    try {
      previous = (await localActivities.loadPreviousRun(workflowInfo().workflowId)) as CarriedConversation | undefined;
    } catch (err) {
      recordActivityFailure(state, 'previous_run_lookup', err);
    }
    if (previous?.conversation) state.absorbPrevious(previous.conversation);
    outbound.absorbPrevious(previous?.outbound);
  }
  if (routingLoaded) await routingLoaded;
  handoff.resume();
  typing.resume();
  attributes.sync();

  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > settings.continueAsNewAfterEvents;
  const hasWork = () => state.pending.length > 0 || state.liveAgentRequested;
  const afterHandling = () => {
    attributes.sync();
    const displayName = state.routing.displayName;
    if (displayName && !attributes.memoSet) {
      upsertMemo({
        displayName: maskDisplayName(displayName),
        conversation: state.channel === 'rbm' ? 'rbm (number masked)' : input.key,
      });
      attributes.memoSet = true;
    }
  };

  if (patches.dormantOnIdle) {
    // Nothing in flight: no activity of an outbound lifecycle or a receipt, no update handler (and,
    // from IN_FLIGHT_BEFORE_CONTINUE_AS_NEW_PATCH on, no typing indicator, no expired SLA's messages).
    const quiet = () =>
      !outbound.busy &&
      receipts.inFlight === 0 &&
      allHandlersFinished() &&
      (!patches.settledBeforeContinueAsNew || (typing.sending === 0 && !handoff.busy));
    if (!state.dormant) idle.resume();
    for (;;) {
      await condition(() => hasWork() || shouldContinueAsNew() || idle.expired);
      if (hasWork()) {
        if (routing.stale) await routing.refresh();
        if (reopenHandoff) {
          reopenHandoff = false;
          await handoff.reopen();
        }
        if (state.liveAgentRequested) {
          state.liveAgentRequested = false;
          await handleLiveAgentRequest(handling);
        }
        const message = state.pending.shift();
        if (message) {
          // The user wrote, so they are reachable: receipts that failed before get another go.
          receipts.retryUnsent();
          await handleUserMessage(message, handling);
        }
        afterHandling();
        continue;
      }
      // Continue as new (history too long, or idle → dormant): first let in-flight work end. The
      // wait yields (a predicate that is false until a job changes it; one already true spun until
      // the worker aborted), and what arrives meanwhile is handled first, not dropped with the run.
      await condition(() => hasWork() || quiet());
      // From CONTINUE_WHEN_SETTLED_PATCH on, quiet must also hold two condition passes later: the
      // wait above resolves eagerly, before work woken in the same activation (a lifecycle's
      // timer, a condition) has reached the activity it is about to start.
      if (patches.continueWhenSettled && !hasWork() && quiet()) {
        await nextConditionPass();
        if (quiet()) await nextConditionPass();
      }
      if (hasWork() || !quiet() || (!idle.expired && !shouldContinueAsNew())) continue;
      if (idle.expired) state.dormant = true;
      attributes.sync();
      log.info(state.dormant ? 'conversation idle: continuing as new, dormant' : 'continuing as new', {
        historyLength: workflowInfo().historyLength,
      });
      await continueAsNew<typeof conversationWorkflow>({
        ...input,
        ...routing.carryInput(),
        carried: carry(state.snapshot(), outbound),
      });
    }
  }

  // Runs started before `dormantOnIdle`: the original loop, kept for their replay.
  for (;;) {
    const woke = await condition(() => hasWork() || shouldContinueAsNew(), settings.idleTimeout);
    if (!woke) {
      // A message still waiting for DELIVERED (or its fallback) keeps the conversation open.
      if (outbound.hasPendingWork) continue;
      break;
    }
    if (routing.stale) await routing.refresh();
    if (state.liveAgentRequested) {
      state.liveAgentRequested = false;
      await handleLiveAgentRequest(handling);
    }
    const message = state.pending.shift();
    if (message) {
      await handleUserMessage(message, handling);
    }
    afterHandling();
    if (shouldContinueAsNew() && state.pending.length === 0) {
      if (outbound.busy) {
        // Never loop on a predicate that is already true (it spins until the worker aborts); wait
        // until the activity ends.
        await condition(() => !outbound.busy || hasWork());
        continue;
      }
      await condition(allHandlersFinished);
      log.info('continuing as new', { historyLength: workflowInfo().historyLength });
      await continueAsNew<typeof conversationWorkflow>({
        ...input,
        ...routing.carryInput(),
        carried: carry(state.snapshot(), outbound),
      });
    }
  }

  state.closed = true;
  attributes.sync();
  await condition(allHandlersFinished);
  log.info('conversation idle, closing');
  return carry(state.snapshot(), outbound);
}

/**
 * Resolves at the next evaluation of blocked conditions, i.e. once every continuation already
 * queued in this activation has run to its next await (a condition is never evaluated eagerly twice).
 */
async function nextConditionPass(): Promise<void> {
  let first = true;
  await condition(() => {
    if (!first) return true;
    first = false;
    return false;
  });
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
