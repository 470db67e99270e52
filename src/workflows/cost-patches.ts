/**
 * Patch ids of issue 14's changes to workflow code (`patched(id)`): a run that recorded an id takes
 * the new path, a history recorded before it replays the old one. Never rename or reuse an id.
 */
export const COST_PATCHES = {
  /**
   * The start carries the first search attributes (channel, status): the first workflow task
   * upserts only what differs from the run's own attributes, instead of all of them.
   */
  initialSearchAttributes: 'cost-initial-search-attributes',
  /** Events carry the API's routing version; a newer one is fetched before the next message is routed (routing-version.ts). */
  routingVersionRefresh: 'cost-routing-version-refresh',
  /**
   * A user's typing event arms no timer to fade it (one billed timer per typing burst): the view
   * keeps when typing began and its readers apply the fade (definitions.ts `userTypingAsOf`).
   */
  typingFadeByReader: 'cost-typing-fade-by-reader',
  /** Automation's answer and the question's READ receipt go out in one activity (replyWithReadReceipt) instead of two. */
  readReceiptInReply: 'cost-read-receipt-in-reply',
} as const;
