import { performance } from 'node:perf_hooks';
import { histogramQuantile } from '../server/method-stats';
import type { MethodTable } from '../server/method-table';
import { methodKind, totalStreamStats, type MethodKind } from '../stream/stream-stats';

/** Server-wide figures the debug page and /metrics show beside the per-method ones. */
export interface ServerFigures {
  startedAt: number;
  connections: number;
  inFlight: number;
  /** `host:port` of the TCP listener, if listening. */
  address?: string;
}

export interface MethodSnapshot {
  service: string;
  method: string;
  calls: number;
  errors: number;
  inFlight: number;
  /** Mean latency since start, ms. */
  meanMs: number | null;
  /** Calls that finished in the last minute (the window of `p50Ms` and `p99Ms`). */
  recentCalls: number;
  /** Median latency of the calls that finished in the last minute, ms; null when none did. */
  p50Ms: number | null;
  /** 99th percentile latency of the calls that finished in the last minute, ms; null when none did. */
  p99Ms: number | null;
  /** Error counts by code. */
  codes: Record<string, number>;
  /** `unary`, or how the method streams: `server`, `client` or `bidi`. */
  kind: MethodKind;
  /** Streams of this method open now (0 for a unary method). */
  streamsOpen: number;
  /** Streams of this method opened since start. */
  streamsOpened: number;
  /** Stream items sent to callers since start. */
  itemsSent: number;
  /** Stream items received from callers since start. */
  itemsReceived: number;
}

/** Stream figures summed over every method. */
export interface StreamTotals {
  open: number;
  opened: number;
  itemsSent: number;
  itemsReceived: number;
}

export interface DebugSnapshot {
  server: ServerFigures & { uptimeSeconds: number; now: number; streams: StreamTotals };
  methods: MethodSnapshot[];
}

/** What the debug page shows: lifetime counters, and percentiles over the last minute. */
export function debugSnapshot(table: MethodTable, figures: ServerFigures): DebugSnapshot {
  const now = Date.now();
  const clock = performance.now();
  const entries = table.entries();
  const { open, opened, itemsSent, itemsReceived } = totalStreamStats(entries.map((e) => e.stats.streams));
  const streams = { open, opened, itemsSent, itemsReceived };
  return {
    server: { ...figures, now, uptimeSeconds: Math.round((now - figures.startedAt) / 1000), streams },
    methods: entries.map(({ def, stats, handler }) => {
      const recent = stats.recentCounts(clock);
      return {
        service: def.service,
        method: def.name,
        calls: stats.calls,
        errors: stats.errors,
        inFlight: stats.inFlight,
        meanMs: stats.calls > 0 ? round(stats.totalMs / stats.calls) : null,
        recentCalls: recent.reduce((a, b) => a + b, 0),
        p50Ms: round(histogramQuantile(0.5, recent)),
        p99Ms: round(histogramQuantile(0.99, recent)),
        codes: Object.fromEntries(stats.codes),
        kind: methodKind(handler, def.options.stream),
        streamsOpen: stats.streams.open,
        streamsOpened: stats.streams.opened,
        itemsSent: stats.streams.itemsSent,
        itemsReceived: stats.streams.itemsReceived,
      };
    }),
  };
}

function round(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 1000) / 1000;
}
