import type { Balancer, PickRequest } from './balancer';
import type { Endpoint } from './endpoint';

interface Slot {
  endpoint: Endpoint;
  current: number;
}

/**
 * Smooth weighted round-robin, as nginx does it: each pick adds every endpoint's weight to its running score,
 * takes the highest, and subtracts the total from the winner. Weights 5:1:1 give a a b a c a a, never five in
 * a row. Weights come from `endpoint.weight` (which the registry may adjust by reported load).
 */
export class WeightedRoundRobinBalancer implements Balancer {
  readonly name = 'weighted-round-robin';
  private slots: Slot[] = [];

  update(endpoints: readonly Endpoint[]): void {
    const previous = new Map(this.slots.map((s) => [s.endpoint.id, s.current]));
    this.slots = endpoints.map((endpoint) => ({ endpoint, current: previous.get(endpoint.id) ?? 0 }));
  }

  pick(_request: PickRequest, exclude?: ReadonlySet<string>): Endpoint | undefined {
    let best: Slot | undefined;
    let total = 0;
    for (const slot of this.slots) {
      if (exclude?.has(slot.endpoint.id)) continue;
      slot.current += slot.endpoint.weight;
      total += slot.endpoint.weight;
      if (!best || slot.current > best.current) best = slot;
    }
    if (!best) return undefined;
    best.current -= total;
    return best.endpoint;
  }
}
