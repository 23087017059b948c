import type { Endpoint } from './endpoint';
import { murmur3, murmur3Bytes } from './hash';

export const DEFAULT_VIRTUAL_NODES = 1000;
/**
 * Most points on one ring, whatever the endpoints' number and weights: past it the points per unit of weight
 * shrink to `MAX_RING_POINTS / total weight`, so a ring of 300 endpoints (or one of weight 3,000) builds in
 * a few ms. Rings up to 40 units of total weight keep the full 1,000 points per unit.
 */
export const MAX_RING_POINTS = 40_000;
const MAX_ENDPOINTS = 2 ** 20;

/**
 * An immutable consistent-hash ring. With `V = min(virtualNodes, MAX_RING_POINTS / total weight)`, endpoint
 * `e` gets `max(1, round(V × e.weight))` points, the i-th at `murmur3("<e.id>#<i>")`; points are sorted by
 * hash, then by endpoint id. A key goes to the first point at or after `murmur3(key)`, wrapping to the first
 * point. See docs/SHARDING.md.
 */
export class HashRing {
  /** Sorted point hashes. */
  readonly hashes: Uint32Array;
  /** owners[i] is the index in `endpoints` of the point at hashes[i]. */
  private readonly owners: Uint32Array;
  /** The endpoints, sorted by id. */
  readonly endpoints: readonly Endpoint[];
  /** Points per unit of weight actually used (below `virtualNodes` once the ring would pass MAX_RING_POINTS). */
  readonly pointsPerWeight: number;

  constructor(
    endpoints: readonly Endpoint[],
    readonly virtualNodes = DEFAULT_VIRTUAL_NODES,
  ) {
    if (endpoints.length >= MAX_ENDPOINTS) throw new RangeError(`a hash ring holds at most ${MAX_ENDPOINTS - 1} endpoints`);
    // Endpoints in id order, so that sorting points by (hash, owner index) breaks ties by endpoint id.
    this.endpoints = [...endpoints].sort((a, b) => compareIds(a.id, b.id));
    let totalWeight = 0;
    for (const e of this.endpoints) totalWeight += e.weight;
    this.pointsPerWeight = totalWeight > 0 ? Math.min(virtualNodes, MAX_RING_POINTS / totalWeight) : virtualNodes;
    const counts = this.endpoints.map((e) => Math.max(1, Math.round(this.pointsPerWeight * e.weight)));
    let total = 0;
    for (const c of counts) total += c;
    // Points are written in owner order; a stable radix sort by hash keeps that order among equal hashes,
    // which is the tie-break by endpoint id (and several times faster than a comparison sort).
    const hashes = new Uint32Array(total);
    const owners = new Uint32Array(total);
    let n = 0;
    this.endpoints.forEach((e, owner) => (n = writePoints(e.id, owner, counts[owner], hashes, owners, n)));
    [this.hashes, this.owners] = radixSortByHash(hashes, owners);
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

/**
 * Writes the points of one endpoint from `at`; returns the next free index. The bytes `<id>#` are encoded
 * once and only the decimal suffix is rewritten per point: the same hashes as `murmur3(\`${id}#${i}\`)`,
 * without a string per point.
 */
function writePoints(id: string, owner: number, count: number, hashes: Uint32Array, owners: Uint32Array, at: number): number {
  const prefix = Buffer.from(`${id}#`, 'utf8');
  const bytes = Buffer.allocUnsafe(prefix.length + 16);
  prefix.copy(bytes, 0);
  bytes[prefix.length] = 48; // "0"
  let len = prefix.length + 1;
  let n = at;
  for (let i = 0; i < count; i++) {
    hashes[n] = murmur3Bytes(bytes, len);
    owners[n++] = owner;
    len = incrementDecimal(bytes, prefix.length, len);
  }
  return n;
}

/** Adds one to the ASCII decimal number in `bytes[start, end)`; returns its new end (one more on a carry out). */
function incrementDecimal(bytes: Buffer, start: number, end: number): number {
  for (let i = end - 1; i >= start; i--) {
    if (bytes[i] !== 57) {
      bytes[i]++;
      return end;
    }
    bytes[i] = 48;
  }
  bytes.copyWithin(start + 1, start, end);
  bytes[start] = 49; // "1" then zeros
  return end + 1;
}

/** Stable LSD radix sort of (hash, owner) pairs by hash, two passes of 16 bits. */
function radixSortByHash(
  hashes: Uint32Array<ArrayBuffer>,
  owners: Uint32Array<ArrayBuffer>,
): [Uint32Array<ArrayBuffer>, Uint32Array<ArrayBuffer>] {
  let srcH = hashes;
  let srcO = owners;
  let dstH = new Uint32Array(hashes.length);
  let dstO = new Uint32Array(hashes.length);
  const counts = new Uint32Array(65_536);
  for (const shift of [0, 16]) {
    counts.fill(0);
    for (let i = 0; i < srcH.length; i++) counts[(srcH[i] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let b = 0; b < counts.length; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < srcH.length; i++) {
      const at = counts[(srcH[i] >>> shift) & 0xffff]++;
      dstH[at] = srcH[i];
      dstO[at] = srcO[i];
    }
    [srcH, dstH] = [dstH, srcH];
    [srcO, dstO] = [dstO, srcO];
  }
  return [srcH, srcO];
}
