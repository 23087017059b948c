import { LATENCY_BUCKETS_MS } from '../server/method-stats';
import type { MethodTable } from '../server/method-table';
import type { ServerFigures } from './debug-snapshot';
import { streamFamilies } from './stream-metrics';

/** One sample of a family: `metricName` defaults to the family's name (a histogram's are `_bucket`, `_sum`, `_count`). */
export interface MetricSample {
  readonly metricName?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family, as Prometheus' text format and prom-client's registry both describe it. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly values: readonly MetricSample[];
}

/** The server's metrics as data: the same families `/metrics` serves, read from the per-method figures. */
export function metricFamilies(table: MethodTable, figures: ServerFigures): MetricFamily[] {
  const entries = table.entries();
  const calls: MetricSample[] = [];
  const durations: MetricSample[] = [];
  const inFlight: MetricSample[] = [];
  for (const { def, stats } of entries) {
    const base = { service: def.service, method: def.name };
    calls.push({ labels: { ...base, code: 'OK' }, value: stats.calls - stats.errors });
    for (const [code, n] of stats.codes) calls.push({ labels: { ...base, code }, value: n });
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((ms, i) => {
      cumulative += stats.counts[i];
      durations.push({
        metricName: 'myrpc_server_call_duration_seconds_bucket',
        labels: { ...base, le: String(ms / 1000) },
        value: cumulative,
      });
    });
    durations.push({ metricName: 'myrpc_server_call_duration_seconds_bucket', labels: { ...base, le: '+Inf' }, value: stats.calls });
    durations.push({ metricName: 'myrpc_server_call_duration_seconds_sum', labels: base, value: stats.totalMs / 1000 });
    durations.push({ metricName: 'myrpc_server_call_duration_seconds_count', labels: base, value: stats.calls });
    inFlight.push({ labels: base, value: stats.inFlight });
  }
  return [
    {
      name: 'myrpc_server_calls_total',
      type: 'counter',
      help: 'Calls handled, by service, method and result code (OK for success).',
      values: calls,
    },
    {
      name: 'myrpc_server_call_duration_seconds',
      type: 'histogram',
      help: 'Time from request to answer, by service and method.',
      values: durations,
    },
    { name: 'myrpc_server_calls_in_flight', type: 'gauge', help: 'Calls being handled now, by service and method.', values: inFlight },
    {
      name: 'myrpc_server_connections',
      type: 'gauge',
      help: 'Open TCP connections.',
      values: [{ labels: {}, value: figures.connections }],
    },
    {
      name: 'myrpc_server_start_time_seconds',
      type: 'gauge',
      help: 'When the server started, seconds since the epoch.',
      values: [{ labels: {}, value: figures.startedAt / 1000 }],
    },
    ...streamFamilies(entries),
  ];
}

/** Prometheus text exposition (format 0.0.4) of the server's figures. */
export function renderMetrics(table: MethodTable, figures: ServerFigures): string {
  return renderMetricFamilies(metricFamilies(table, figures));
}

/** Prometheus text exposition (format 0.0.4) of metric families: `# HELP`, `# TYPE`, then one line per sample. */
export function renderMetricFamilies(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.values) out.push(`${s.metricName ?? f.name}${labels(s.labels)} ${s.value}`);
  }
  return `${out.join('\n')}\n`;
}

function labels(values: Readonly<Record<string, string>>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}
