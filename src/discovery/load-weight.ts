import type { LoadReport } from './registrar';

/** In-flight calls that halve a server's weight. */
export const IN_FLIGHT_PER_HALVING = 32;
/** Event-loop delay beyond this, ms, starts to count. */
export const EVENT_LOOP_SLACK_MS = 10;
/** Event-loop delay over the slack that halves a server's weight, ms. */
export const EVENT_LOOP_MS_PER_HALVING = 50;

/**
 * Load-aware weight: the registered weight divided by `1 + inFlight/32 + max(0, delay - 10)/50`. A server
 * with 32 calls in flight, or with 60 ms of event-loop delay, gets half its share from the weighted balancer.
 * Rounded to 3 significant digits so that small load changes do not churn clients.
 */
export function loadAwareWeight(weight: number, load: LoadReport | undefined): number {
  if (!load) return weight;
  const factor =
    1 + load.inFlight / IN_FLIGHT_PER_HALVING + Math.max(0, load.eventLoopDelayMs - EVENT_LOOP_SLACK_MS) / EVENT_LOOP_MS_PER_HALVING;
  return Number((weight / factor).toPrecision(3));
}
