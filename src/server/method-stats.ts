import { performance } from 'node:perf_hooks';

/** Upper bounds of the latency buckets, ms (Prometheus' default buckets, in ms, plus a few). */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000] as const;

/** Per-method figures for the debug page and /metrics. Two clock reads and a few increments per call. */
export class MethodStats {
  calls = 0;
  errors = 0;
  inFlight = 0;
  totalMs = 0;
  /** counts[i]: calls that took at most LATENCY_BUCKETS_MS[i] (and more than the bound before); last = over all. */
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  readonly codes = new Map<string, number>();

  begin(): number {
    this.inFlight++;
    return performance.now();
  }

  /** `code` is the error code, or undefined for a success. */
  finish(startedAt: number, code: string | undefined): void {
    const ms = performance.now() - startedAt;
    this.inFlight--;
    this.calls++;
    this.totalMs += ms;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]) i++;
    this.counts[i]++;
    if (code !== undefined) {
      this.errors++;
      this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    }
  }

  /** Latency quantile, ms, interpolated within its bucket as Prometheus' histogram_quantile does. */
  quantile(q: number): number | undefined {
    if (this.calls === 0) return undefined;
    const rank = q * this.calls;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const next = seen + this.counts[i];
      if (next >= rank && this.counts[i] > 0) {
        const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
        const upper = i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i] : lower;
        return lower + (upper - lower) * ((rank - seen) / this.counts[i]);
      }
      seen = next;
    }
    return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
  }
}
