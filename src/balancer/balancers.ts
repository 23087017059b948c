import type { Balancer, BalancerOptions } from './balancer';
import { ConsistentHashBalancer, type ConsistentHashOptions } from './consistent-hash-balancer';
import { HashModuloBalancer } from './hash-modulo-balancer';
import { LeastLoadedBalancer } from './least-loaded-balancer';
import { RandomBalancer } from './random-balancer';
import { RoundRobinBalancer } from './round-robin-balancer';
import { WeightedRoundRobinBalancer } from './weighted-round-robin-balancer';

export type BalancerFactory = (options: BalancerOptions & ConsistentHashOptions) => Balancer;

const BUILT_IN: Record<string, BalancerFactory> = {
  random: (o) => new RandomBalancer(o),
  'round-robin': () => new RoundRobinBalancer(),
  'weighted-round-robin': () => new WeightedRoundRobinBalancer(),
  'least-loaded': (o) => new LeastLoadedBalancer(o),
  'consistent-hash': (o) => new ConsistentHashBalancer(o),
  'hash-modulo': () => new HashModuloBalancer(),
};

/** Name → balancer factory. Register your own with `balancers.register`; tests may `reset`. */
export class BalancerRegistry {
  private readonly factories = new Map<string, BalancerFactory>(Object.entries(BUILT_IN));

  register(name: string, factory: BalancerFactory): void {
    this.factories.set(name, factory);
  }

  create(name: string, options: BalancerOptions & ConsistentHashOptions = {}): Balancer {
    const factory = this.factories.get(name);
    if (!factory) throw new Error(`unknown balancer '${name}' (known: ${[...this.factories.keys()].join(', ')})`);
    return factory(options);
  }

  names(): string[] {
    return [...this.factories.keys()];
  }

  reset(): void {
    this.factories.clear();
    for (const [name, f] of Object.entries(BUILT_IN)) this.factories.set(name, f);
  }
}

export const balancers = new BalancerRegistry();
