/**
 * Choosing the human queue for a handoff. Pure: runs inside the workflow sandbox.
 */
import { matchLocale } from './locale';
import { type QueueConfig, type RoutingConfig } from './types';

/** Why a queue was chosen, most specific first. */
export type QueueMatch = 'place_and_locale' | 'locale' | 'place' | 'default';

/** The chosen queue and why. */
export interface QueueSelection {
  queue: string;
  match: QueueMatch;
}

function servesLocale(queue: QueueConfig, locale: string): boolean {
  return matchLocale(locale, queue.locales) !== undefined;
}

/** Default queue first, then file order: the file's order is the tie-break an operator controls. */
function pick(candidates: QueueConfig[]): QueueConfig | undefined {
  return candidates.find((queue) => queue.default) ?? candidates[0];
}

/**
 * The queue for a conversation in `locale`, about `placeId` when known. Google's Business Messages
 * receive-messages guide routes a locale unlike the agent's default to someone who speaks it and a
 * `placeId` to someone who knows that place; when no queue has both,
 * language wins (someone who cannot read the user helps nobody), then place, then the default.
 * Place queues never receive conversations about other places.
 */
export function selectQueue(config: RoutingConfig, target: { locale: string; placeId?: string }): QueueSelection {
  const { locale, placeId } = target;
  const forPlace = placeId !== undefined ? config.queues.filter((queue) => queue.placeIds.includes(placeId)) : [];
  const general = config.queues.filter((queue) => queue.placeIds.length === 0);

  const both = pick(forPlace.filter((queue) => servesLocale(queue, locale)));
  if (both !== undefined) return { queue: both.id, match: 'place_and_locale' };
  const byLocale = pick(general.filter((queue) => servesLocale(queue, locale)));
  if (byLocale !== undefined) return { queue: byLocale.id, match: 'locale' };
  const byPlace = pick(forPlace);
  if (byPlace !== undefined) return { queue: byPlace.id, match: 'place' };
  const fallback = pick(config.queues.filter((queue) => queue.default)) ?? pick(general) ?? config.queues[0];
  // A validated file has exactly one default queue; the fallbacks only keep the types honest.
  if (fallback === undefined) throw new Error('routing file has no queues');
  return { queue: fallback.id, match: 'default' };
}

const EARTH_RADIUS_KM = 6371;

function toRadians(degrees: number): number {
  return (degrees * Math.PI) / 180;
}

/** Great-circle distance (haversine). Math.sin/cos are deterministic in V8, so replay-safe. */
function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const dLat = toRadians(b.latitude - a.latitude);
  const dLon = toRadians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(toRadians(a.latitude)) * Math.cos(toRadians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The known place nearest to a shared location, within `automation.nearestPlaceMaxKm`. */
export function nearestPlace(
  config: RoutingConfig,
  point: { latitude: number; longitude: number },
): { placeId: string; distanceKm: number } | undefined {
  let best: { placeId: string; distanceKm: number } | undefined;
  for (const [placeId, place] of Object.entries(config.places)) {
    if (place.location === undefined) continue;
    const distance = distanceKm(point, place.location);
    if (distance <= config.automation.nearestPlaceMaxKm && (best === undefined || distance < best.distanceKm))
      best = { placeId, distanceKm: distance };
  }
  return best;
}
