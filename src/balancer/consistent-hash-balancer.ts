import { RpcCode, RpcError } from '../errors/rpc-error';
import type { Balancer, BalancerOptions, PickRequest } from './balancer';
import { NO_LOAD, type Endpoint, type LoadInfo } from './endpoint';
import { murmur3 } from './hash';
import { DEFAULT_VIRTUAL_NODES, HashRing } from './hash-ring';

export interface ConsistentHashOptions extends BalancerOptions {
  /** Ring points per unit of endpoint weight. Default 1000 (busiest of 10 endpoints ≤ 1.08 × the mean). */
  virtualNodes?: number;
  /**
   * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018): no endpoint takes more than
   * `ceil(c × (total in flight + 1) × weight / total weight)` calls in flight; a full endpoint passes the call
   * on along the ring. Off when undefined; 1.25 is a common choice. Needs `load`.
   */
  boundedLoadFactor?: number;
}

/**
 * Routes each call by the hash of its shard key on a ring of virtual nodes, so adding or removing one of N
 * endpoints moves about 1/N of the keys. A call without a shard key is refused, never routed at random.
 */
export class ConsistentHashBalancer implements Balancer {
  readonly name = 'consistent-hash';
  private ring: HashRing | undefined;
  private endpoints: readonly Endpoint[] = [];
  private healthy: ReadonlySet<string> = new Set();
  private readonly virtualNodes: number;
  private readonly c: number | undefined;
  private readonly load: LoadInfo;

  constructor(options: ConsistentHashOptions = {}) {
    this.virtualNodes = options.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
    this.c = options.boundedLoadFactor;
    if (this.c !== undefined && !(this.c > 1)) throw new RangeError('boundedLoadFactor must be > 1');
    this.load = options.load ?? NO_LOAD;
  }

  /**
   * Takes the new list in O(n). The ring is rebuilt lazily (on the next pick) and only when the list brings
   * an endpoint (or weight) the ring lacks, or has shrunk below a quarter of the ring: an endpoint that
   * merely left the healthy set is skipped by `pick`, which sends its keys where a rebuilt ring would (the
   * next point along the ring), so a flapping endpoint costs no rebuild.
   */
  update(endpoints: readonly Endpoint[]): void {
    this.endpoints = endpoints;
    this.healthy = new Set(endpoints.map((e) => e.id));
    const ring = this.ring;
    if (ring === undefined) return;
    const weights = new Map(ring.endpoints.map((e) => [e.id, e.weight]));
    const stale = endpoints.length * 4 < ring.endpoints.length || endpoints.some((e) => weights.get(e.id) !== e.weight);
    if (stale) this.ring = undefined;
  }

  /** The current ring (immutable), for tools and tests; it may still hold endpoints that left the list, which `pick` skips. */
  get currentRing(): HashRing {
    this.ring ??= new HashRing(this.endpoints, this.virtualNodes);
    return this.ring;
  }

  pick(request: PickRequest, exclude?: ReadonlySet<string>): Endpoint | undefined {
    if (request.shardKey === undefined) {
      throw new RpcError(
        RpcCode.INVALID_ARGUMENT,
        `${request.service}.${request.method} has no shard key; the consistent-hash balancer routes only by key`,
        { mayHaveRun: false },
      );
    }
    const ring = this.currentRing;
    if (ring.size === 0 || this.healthy.size === 0) return undefined;
    const start = ring.indexOf(murmur3(request.shardKey));
    const capacity = this.c === undefined ? undefined : this.capacityPerWeight(ring, exclude);
    const seen = new Set<string>();
    for (let i = 0; i < ring.size && seen.size < ring.endpoints.length; i++) {
      const e = ring.ownerAt(start + i);
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      if (!this.healthy.has(e.id) || exclude?.has(e.id)) continue;
      if (capacity === undefined || this.load.inFlight(e) < Math.ceil(capacity * e.weight)) return e;
    }
    return undefined;
  }

  private capacityPerWeight(ring: HashRing, exclude: ReadonlySet<string> | undefined): number {
    let inFlight = 0;
    let weight = 0;
    for (const e of ring.endpoints) {
      if (!this.healthy.has(e.id) || exclude?.has(e.id)) continue;
      inFlight += this.load.inFlight(e);
      weight += e.weight;
    }
    return ((this.c as number) * (inFlight + 1)) / weight;
  }
}
