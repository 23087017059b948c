import { LATENCY_BUCKETS_MS } from '../server/method-stats';
import type { MethodTable } from '../server/method-table';
import type { ServerFigures } from './debug-snapshot';

/** Prometheus text exposition (format 0.0.4) of the server's figures. */
export function renderMetrics(table: MethodTable, figures: ServerFigures): string {
  const out: string[] = [];
  const entries = table.entries();
  family(out, 'myrpc_server_calls_total', 'counter', 'Calls handled, by service, method and result code (OK for success).');
  for (const { def, stats } of entries) {
    const base = { service: def.service, method: def.name };
    out.push(`myrpc_server_calls_total${labels({ ...base, code: 'OK' })} ${stats.calls - stats.errors}`);
    for (const [code, n] of stats.codes) out.push(`myrpc_server_calls_total${labels({ ...base, code })} ${n}`);
  }
  family(out, 'myrpc_server_call_duration_seconds', 'histogram', 'Time from request to answer, by service and method.');
  for (const { def, stats } of entries) {
    const base = { service: def.service, method: def.name };
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((ms, i) => {
      cumulative += stats.counts[i];
      out.push(`myrpc_server_call_duration_seconds_bucket${labels({ ...base, le: String(ms / 1000) })} ${cumulative}`);
    });
    out.push(`myrpc_server_call_duration_seconds_bucket${labels({ ...base, le: '+Inf' })} ${stats.calls}`);
    out.push(`myrpc_server_call_duration_seconds_sum${labels(base)} ${stats.totalMs / 1000}`);
    out.push(`myrpc_server_call_duration_seconds_count${labels(base)} ${stats.calls}`);
  }
  family(out, 'myrpc_server_calls_in_flight', 'gauge', 'Calls being handled now, by service and method.');
  for (const { def, stats } of entries) out.push(`myrpc_server_calls_in_flight${labels({ service: def.service, method: def.name })} ${stats.inFlight}`);
  family(out, 'myrpc_server_connections', 'gauge', 'Open TCP connections.');
  out.push(`myrpc_server_connections ${figures.connections}`);
  family(out, 'myrpc_server_start_time_seconds', 'gauge', 'When the server started, seconds since the epoch.');
  out.push(`myrpc_server_start_time_seconds ${figures.startedAt / 1000}`);
  return `${out.join('\n')}\n`;
}

function family(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `{${parts.join(',')}}`;
}
