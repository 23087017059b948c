import { performance } from 'node:perf_hooks';
import { StreamStats } from '../stream/stream-stats';

/** Upper bounds of the latency buckets, ms (Prometheus' default buckets, in ms, plus a few). */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000] as const;

/** The debug page's percentiles cover the last minute: six slots of 10 s, the oldest dropped as time moves on. */
export const RECENT_WINDOW_SLOTS = 6;
export const RECENT_SLOT_MS = 10_000;

/**
 * Per-method figures for the debug page and /metrics. Two clock reads and a few increments per call.
 * Counters and the histogram count since start; a rotating copy of the histogram counts the last minute.
 */
export class MethodStats {
  calls = 0;
  errors = 0;
  inFlight = 0;
  totalMs = 0;
  /** counts[i]: calls that took at most LATENCY_BUCKETS_MS[i] (and more than the bound before); last = over all. */
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  readonly codes = new Map<string, number>();
  /** Open streams and items in and out; all 0 for a unary method. */
  readonly streams = new StreamStats();
  private readonly slots = Array.from({ length: RECENT_WINDOW_SLOTS }, () => new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0));
  /** slotIds[k]: which 10 s period (`floor(now / RECENT_SLOT_MS)`) slots[k] counts; -1 for none yet. */
  private readonly slotIds = new Array<number>(RECENT_WINDOW_SLOTS).fill(-1);

  begin(): number {
    this.inFlight++;
    return performance.now();
  }

  /** `code` is the error code, or undefined for a success. */
  finish(startedAt: number, code: string | undefined, now = performance.now()): void {
    const ms = now - startedAt;
    this.inFlight--;
    this.calls++;
    this.totalMs += ms;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]) i++;
    this.counts[i]++;
    this.slot(now)[i]++;
    if (code !== undefined) {
      this.errors++;
      this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    }
  }

  /** The histogram slot of the 10 s period `now` falls in, emptied first when it last counted an older period. */
  private slot(now: number): number[] {
    const id = Math.floor(now / RECENT_SLOT_MS);
    const k = id % RECENT_WINDOW_SLOTS;
    if (this.slotIds[k] !== id) {
      this.slotIds[k] = id;
      this.slots[k].fill(0);
    }
    return this.slots[k];
  }

  /** Bucket counts of the calls that finished in the current and the previous five 10 s periods. */
  recentCounts(now = performance.now()): number[] {
    const current = Math.floor(now / RECENT_SLOT_MS);
    const sum = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
    for (let k = 0; k < RECENT_WINDOW_SLOTS; k++) {
      if (this.slotIds[k] <= current - RECENT_WINDOW_SLOTS || this.slotIds[k] > current) continue;
      this.slots[k].forEach((n, i) => (sum[i] += n));
    }
    return sum;
  }

  /** Latency quantile since start, ms, interpolated within its bucket as Prometheus' histogram_quantile does. */
  quantile(q: number): number | undefined {
    return histogramQuantile(q, this.counts);
  }

  /** Latency quantile over the last minute (see {@link recentCounts}), ms; undefined when no call finished in it. */
  recentQuantile(q: number, now = performance.now()): number | undefined {
    return histogramQuantile(q, this.recentCounts(now));
  }
}

/** Quantile of a bucket histogram, interpolated within its bucket; undefined for an empty one. */
export function histogramQuantile(q: number, counts: readonly number[]): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const next = seen + counts[i];
    if (next >= rank && counts[i] > 0) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
      const upper = i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i] : lower;
      return lower + (upper - lower) * ((rank - seen) / counts[i]);
    }
    seen = next;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
}
