import type { Balancer, BalancerOptions, PickRequest } from './balancer';
import { NO_LOAD, type Endpoint, type LoadInfo } from './endpoint';

/**
 * Least loaded by the power of two choices: draw two endpoints at random, take the one with the lower
 * cost, where cost = (calls in flight + 1) × EWMA latency ÷ weight (an endpoint not yet measured counts as
 * fast, so a new server gets traffic at once). Two random draws avoid the herd that "always the least
 * loaded" causes when load figures lag.
 */
export class LeastLoadedBalancer implements Balancer {
  readonly name = 'least-loaded';
  private endpoints: readonly Endpoint[] = [];
  private readonly load: LoadInfo;
  private readonly random: () => number;

  constructor(options: BalancerOptions = {}) {
    this.load = options.load ?? NO_LOAD;
    this.random = options.random ?? Math.random;
  }

  update(endpoints: readonly Endpoint[]): void {
    this.endpoints = endpoints;
  }

  pick(_request: PickRequest, exclude?: ReadonlySet<string>): Endpoint | undefined {
    const candidates = exclude && exclude.size > 0 ? this.endpoints.filter((e) => !exclude.has(e.id)) : this.endpoints;
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i];
    const b = candidates[j];
    return this.cost(a) <= this.cost(b) ? a : b;
  }

  private cost(e: Endpoint): number {
    const latency = this.load.latencyMs(e);
    return ((this.load.inFlight(e) + 1) * (latency > 0 ? latency : 1e-3)) / e.weight;
  }
}
