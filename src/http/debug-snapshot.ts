import type { MethodTable } from '../server/method-table';

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
  meanMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Error counts by code. */
  codes: Record<string, number>;
}

export interface DebugSnapshot {
  server: ServerFigures & { uptimeSeconds: number; now: number };
  methods: MethodSnapshot[];
}

export function debugSnapshot(table: MethodTable, figures: ServerFigures): DebugSnapshot {
  const now = Date.now();
  return {
    server: { ...figures, now, uptimeSeconds: Math.round((now - figures.startedAt) / 1000) },
    methods: table.entries().map(({ def, stats }) => ({
      service: def.service,
      method: def.name,
      calls: stats.calls,
      errors: stats.errors,
      inFlight: stats.inFlight,
      meanMs: stats.calls > 0 ? round(stats.totalMs / stats.calls) : null,
      p50Ms: round(stats.quantile(0.5)),
      p99Ms: round(stats.quantile(0.99)),
      codes: Object.fromEntries(stats.codes),
    })),
  };
}

function round(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 1000) / 1000;
}
