import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

let histogram: IntervalHistogram | undefined;

/** Median event-loop delay since the previous reading, ms (the first reading starts the monitor). */
export function readEventLoopDelayMs(): number {
  if (!histogram) {
    histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    return 0;
  }
  const p50 = histogram.percentile(50) / 1e6;
  histogram.reset();
  return Number.isFinite(p50) ? Math.round(p50 * 10) / 10 : 0;
}
