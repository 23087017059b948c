import { firstAllowed, type Balancer, type BalancerOptions, type PickRequest } from './balancer';
import type { Endpoint } from './endpoint';

/** Uniformly random. */
export class RandomBalancer implements Balancer {
  readonly name = 'random';
  private endpoints: readonly Endpoint[] = [];
  private readonly random: () => number;

  constructor(options: BalancerOptions = {}) {
    this.random = options.random ?? Math.random;
  }

  update(endpoints: readonly Endpoint[]): void {
    this.endpoints = endpoints;
  }

  pick(_request: PickRequest, exclude?: ReadonlySet<string>): Endpoint | undefined {
    if (this.endpoints.length === 0) return undefined;
    return firstAllowed(this.endpoints, Math.floor(this.random() * this.endpoints.length), exclude);
  }
}
