/** Latency samples in ms, kept in a growable Float64Array so that recording one costs no allocation. */
export class LatencySamples {
  private data = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.count++] = ms;
  }

  get size(): number {
    return this.count;
  }

  /** Nearest-rank percentiles (p in 0..1) of everything recorded; NaN when empty. */
  percentiles(ps: readonly number[]): number[] {
    if (this.count === 0) return ps.map(() => NaN);
    const sorted = this.data.slice(0, this.count).sort();
    return ps.map((p) => sorted[Math.min(this.count - 1, Math.max(0, Math.ceil(p * this.count) - 1))]);
  }
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
