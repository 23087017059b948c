import { formatLatency, formatRatio } from './format';
import type { CellSummary } from './throughput';
import { WORKLOADS, type SystemName, type WorkloadName } from './workloads';

/** The performance targets, judged on MyRPC against the raw echo (or MyRPC JSON) of the same run. */
export interface BarVerdict {
  bar: string;
  measured: string;
  pass: boolean | undefined;
}

const JUDGED: SystemName = 'myrpc-json';

function find(cells: CellSummary[], system: SystemName, workload: WorkloadName, inFlight: number): CellSummary | undefined {
  return cells.find((c) => c.system === system && c.workload === workload && c.inFlight === inFlight);
}

function throughputBar(cells: CellSummary[], workload: WorkloadName, label: string): BarVerdict {
  const c = find(cells, JUDGED, workload, 64);
  const bar = `MyRPC JSON ${label} @64 in flight ≥ 1.00× raw calls/s`;
  if (!c || c.ratio === undefined) return { bar, measured: 'not measured', pass: undefined };
  const rounds = c.roundRatios ?? [];
  const spread = rounds.length > 1 ? ` (round by round: ${rounds.map((r) => formatRatio(r)).join(', ')})` : '';
  return { bar, measured: `${formatRatio(c.ratio)}${spread}`, pass: c.ratio >= 1 && !c.stall };
}

/** p99 at 64 in flight no worse than raw's. */
function tailBar(cells: CellSummary[], workload: WorkloadName, label: string): BarVerdict {
  const c = find(cells, JUDGED, workload, 64);
  const base = find(cells, 'raw', workload, 64);
  const bar = `MyRPC JSON ${label} p99 @64 in flight ≤ raw p99`;
  if (!c || !base) return { bar, measured: 'not measured', pass: undefined };
  return { bar, measured: `${formatLatency(c.p99Ms)} vs ${formatLatency(base.p99Ms)}`, pass: c.p99Ms <= base.p99Ms };
}

/** MessagePack against JSON in the same run: the binary codec must be the faster one. */
function codecBar(cells: CellSummary[], workload: WorkloadName, label: string, min: number): BarVerdict {
  const json = find(cells, JUDGED, workload, 64);
  const msgpack = find(cells, 'myrpc-msgpack', workload, 64);
  const bar = `MyRPC MessagePack ${label} @64 in flight ≥ ${min.toFixed(2)}× MyRPC JSON calls/s`;
  if (!json || !msgpack) return { bar, measured: 'not measured', pass: undefined };
  const ratio = msgpack.callsPerSec / json.callsPerSec;
  return { bar, measured: formatRatio(ratio), pass: ratio >= min && !msgpack.stall };
}

function latencyBars(cells: CellSummary[]): BarVerdict[] {
  return WORKLOADS.map(({ name, label }) => {
    const c = find(cells, JUDGED, name, 1);
    const bar = `MyRPC JSON ${label} p50 @1 in flight ≤ 1.00× raw p50`;
    if (!c || c.p50Ratio === undefined) return { bar, measured: 'not measured', pass: undefined };
    const base = c.p50Ms / c.p50Ratio;
    return { bar, measured: `${formatRatio(c.p50Ratio)} (${formatLatency(c.p50Ms)} vs ${formatLatency(base)})`, pass: c.p50Ratio <= 1 };
  });
}

function stallBar(cells: CellSummary[]): BarVerdict {
  const mine = cells.filter((c) => c.system.startsWith('myrpc'));
  const bad = mine.filter((c) => c.stall || c.errors > 0);
  const slowest = Math.max(0, ...mine.map((c) => c.maxMs));
  const bar = 'no stall: every MyRPC cell completes calls, none slower than 5 s, no errors';
  if (mine.length === 0) return { bar, measured: 'not measured', pass: undefined };
  const measured =
    bad.length === 0
      ? `${mine.length} cells, slowest call ${formatLatency(slowest)}`
      : bad.map((c) => `${c.system} ${c.workload} @${c.inFlight}: ${c.flags.join('; ')}`).join(' | ');
  return { bar, measured, pass: bad.length === 0 };
}

export function judgeBars(cells: CellSummary[]): BarVerdict[] {
  return [
    throughputBar(cells, 'add', 'add'),
    throughputBar(cells, 'echo-1k', 'echo 1 KiB'),
    ...latencyBars(cells),
    tailBar(cells, 'add', 'add'),
    tailBar(cells, 'echo-1k', 'echo 1 KiB'),
    codecBar(cells, 'add', 'add', 1),
    codecBar(cells, 'echo-1k', 'echo 1 KiB', 1.2),
    stallBar(cells),
  ];
}

export function renderBars(verdicts: BarVerdict[]): string {
  return verdicts.map((v) => `  [${v.pass === undefined ? 'n/a ' : v.pass ? 'PASS' : 'FAIL'}] ${v.bar}: ${v.measured}`).join('\n');
}
