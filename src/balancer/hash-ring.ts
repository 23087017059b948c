import type { Endpoint } from './endpoint';
import { murmur3 } from './hash';

export const DEFAULT_VIRTUAL_NODES = 1000;
const OWNER_SPACE = 2 ** 20;

/**
 * An immutable consistent-hash ring. Endpoint `e` gets `max(1, round(virtualNodes × e.weight))` points, the
 * i-th at `murmur3("<e.id>#<i>")`; points are sorted by hash, then by endpoint id. A key goes to the first
 * point at or after `murmur3(key)`, wrapping to the first point. See docs/SHARDING.md.
 */
export class HashRing {
  /** Sorted point hashes. */
  readonly hashes: Uint32Array;
  /** owners[i] is the index in `endpoints` of the point at hashes[i]. */
  private readonly owners: Uint32Array;
  /** The endpoints, sorted by id. */
  readonly endpoints: readonly Endpoint[];

  constructor(
    endpoints: readonly Endpoint[],
    readonly virtualNodes = DEFAULT_VIRTUAL_NODES,
  ) {
    if (endpoints.length >= OWNER_SPACE) throw new RangeError(`a hash ring holds at most ${OWNER_SPACE - 1} endpoints`);
    // Endpoints in id order, so that sorting points by (hash, owner index) breaks ties by endpoint id.
    this.endpoints = [...endpoints].sort((a, b) => compareIds(a.id, b.id));
    let total = 0;
    const counts = this.endpoints.map((e) => Math.max(1, Math.round(virtualNodes * e.weight)));
    for (const c of counts) total += c;
    // hash × 2^20 + owner is exact in a double (2^52 < 2^53), so one typed-array sort orders by both.
    const keys = new Float64Array(total);
    let n = 0;
    this.endpoints.forEach((e, owner) => {
      for (let i = 0; i < counts[owner]; i++) keys[n++] = murmur3(`${e.id}#${i}`) * OWNER_SPACE + owner;
    });
    keys.sort();
    this.hashes = new Uint32Array(total);
    this.owners = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const owner = keys[i] % OWNER_SPACE;
      this.hashes[i] = (keys[i] - owner) / OWNER_SPACE;
      this.owners[i] = owner;
    }
  }

  get size(): number {
    return this.hashes.length;
  }

  /** Index of the first point at or after `hash`, wrapping. The ring must not be empty. */
  indexOf(hash: number): number {
    const h = this.hashes;
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (h[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === h.length ? 0 : lo;
  }

  ownerAt(index: number): Endpoint {
    return this.endpoints[this.owners[index % this.owners.length]];
  }

  /** The endpoint that owns `key`, or undefined for an empty ring. */
  lookup(key: string): Endpoint | undefined {
    if (this.hashes.length === 0) return undefined;
    return this.ownerAt(this.indexOf(murmur3(key)));
  }
}

/** Byte order of ASCII ids, the same as Python's default string order for them. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
