/**
 * patched() ids of the handoff controller (src/workflows/handoff.ts). A conversation that passed a
 * patch's point before the change replays the old commands; one reaching it afterwards records the
 * marker and runs the new ones. Never rename or remove an id while runs that recorded it are open.
 */

/**
 * When a handoff's SLA expires with nobody joined, the desk is notified a second time (reason
 * `sla_expired`, a handoff id of its own) after the holding message, so it can page someone.
 */
export const HANDOFF_SLA_ESCALATION = 'handoff-sla-escalation';
