import type { Endpoint, LoadInfo } from './endpoint';

/** What a balancer knows of one call when it picks. */
export interface PickRequest {
  readonly service: string;
  readonly method: string;
  /** The canonical text of the call's shard key (see docs/SHARDING.md), when the method has one. */
  readonly shardKey?: string;
}

/**
 * Chooses an endpoint per call. The cluster client calls `update` with only the healthy endpoints (never the
 * dead ones) whenever that list changes, and `pick` once per call attempt; `exclude` holds endpoints this
 * call already failed on. Both are called synchronously and must not throw.
 */
export interface Balancer {
  readonly name: string;
  update(endpoints: readonly Endpoint[]): void;
  /** Returns undefined when there is no endpoint to give (none healthy, or all excluded). */
  pick(request: PickRequest, exclude?: ReadonlySet<string>): Endpoint | undefined;
}

export interface BalancerOptions {
  /** Per-endpoint load, for the load-aware balancers. */
  load?: LoadInfo;
  /** Source of randomness in [0, 1); tests pass a seeded one. */
  random?: () => number;
}

/** Picks the first endpoint of `list` at or after `start` (wrapping) that is not excluded. */
export function firstAllowed(list: readonly Endpoint[], start: number, exclude: ReadonlySet<string> | undefined): Endpoint | undefined {
  const n = list.length;
  for (let i = 0; i < n; i++) {
    const e = list[(start + i) % n];
    if (!exclude || !exclude.has(e.id)) return e;
  }
  return undefined;
}
