// `node dist/bench/scale.js [--quick]`: what MyRPC costs as the work grows. Calls/s with 1, 4 and 16 client
// connections (MyRPC JSON against the raw echo with as many connections); a ClusterClient over one endpoint
// against an RpcClient; server RSS per idle connection at 1,000 and 10,000 connections.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { killAllChildren } from './child-handle';
import { formatBytes, formatLatency, formatRate, formatRatio, renderTable } from './format';
import { measureMemory, type MemoryResult } from './memory';
import { parseOptions, type BenchOptions } from './options';
import { median } from './stats';
import { SystemPair, type RunResult } from './throughput';
import type { SystemName, WorkloadName } from './workloads';

const RESULTS_DIR = join(resolve(__dirname, '..', '..'), 'bench', 'results');
export const CONNECTION_LEVELS = [1, 4, 16] as const;
const SCALE_IN_FLIGHT = 64;

export interface ScaleRow {
  what: string;
  system: SystemName;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** calls/s over the row's baseline in the same round (median over rounds). */
  ratio: number;
  baseline: string;
  /** CPU time of the client process and of the server process per call, µs (median over rounds). */
  clientCpuUsPerCall: number;
  serverCpuUsPerCall: number;
}

/** Rounds of (baseline, other), alternating which goes first; medians of each and of the per-round ratios. */
async function compare(
  base: SystemPair,
  other: SystemPair,
  workload: WorkloadName,
  inFlight: number,
  runs: number,
): Promise<[RunResult[], RunResult[], number]> {
  const a: RunResult[] = [];
  const b: RunResult[] = [];
  for (let round = 0; round < runs; round++) {
    if (round % 2 === 0) {
      a.push(await base.run(workload, inFlight));
      b.push(await other.run(workload, inFlight));
    } else {
      b.push(await other.run(workload, inFlight));
      a.push(await base.run(workload, inFlight));
    }
  }
  return [a, b, median(b.map((r, i) => r.callsPerSec / a[i].callsPerSec))];
}

function row(what: string, system: SystemName, runs: RunResult[], ratio: number, baseline: string): ScaleRow {
  return {
    what,
    system,
    callsPerSec: median(runs.map((r) => r.callsPerSec)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    ratio,
    baseline,
    // The steadier figure on a busy machine: load lowers calls/s more than it inflates CPU per call.
    clientCpuUsPerCall: median(runs.map((r) => r.clientCpuUs / r.totalCalls)),
    serverCpuUsPerCall: median(runs.map((r) => r.serverCpuUs / r.totalCalls)),
  };
}

async function withPairs<T>(pairs: SystemPair[], fn: () => Promise<T>): Promise<T> {
  try {
    await Promise.all(pairs.map((p) => p.start())); // together: each start loads code and warms up for a while
    return await fn();
  } finally {
    await Promise.all(pairs.map((p) => p.stop()));
  }
}

async function connectionRows(opts: BenchOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const connections of CONNECTION_LEVELS) {
    const raw = new SystemPair('raw', opts, [], connections);
    const json = new SystemPair('myrpc-json', opts, [], connections);
    await withPairs([raw, json], async () => {
      const [a, b, ratio] = await compare(raw, json, 'add', SCALE_IN_FLIGHT, opts.runs);
      const what = `add @${SCALE_IN_FLIGHT}, ${connections} connection${connections === 1 ? '' : 's'}`;
      rows.push(row(what, 'raw', a, 1, 'raw'), row(what, 'myrpc-json', b, ratio, 'raw'));
    });
  }
  return rows;
}

async function clusterRows(opts: BenchOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const direct = new SystemPair('myrpc-json', opts, []);
  const cluster = new SystemPair('myrpc-cluster', opts, []);
  await withPairs([direct, cluster], async () => {
    for (const [workload, inFlight] of [
      ['add', 1],
      ['add', SCALE_IN_FLIGHT],
      ['echo-1k', SCALE_IN_FLIGHT],
    ] as const) {
      const [a, b, ratio] = await compare(direct, cluster, workload, inFlight, opts.runs);
      const what = `${workload === 'add' ? 'add' : 'echo 1 KiB'} @${inFlight}, ClusterClient vs RpcClient`;
      rows.push(row(what, 'myrpc-json', a, 1, 'RpcClient'), row(what, 'myrpc-cluster', b, ratio, 'RpcClient'));
    }
  });
  return rows;
}

function renderRows(rows: ScaleRow[]): string {
  const headers = ['what', 'system', ' calls/s', ' p50', ' p99', ' vs', 'baseline', ' cli CPU µs/call', ' srv CPU µs/call'];
  return renderTable(
    headers,
    rows.map((r) => [
      r.what,
      r.system,
      formatRate(r.callsPerSec),
      formatLatency(r.p50Ms),
      formatLatency(r.p99Ms),
      formatRatio(r.ratio),
      r.baseline,
      r.clientCpuUsPerCall.toFixed(1),
      r.serverCpuUsPerCall.toFixed(1),
    ]),
  );
}

function renderMemory(results: MemoryResult[]): string {
  const headers = ['server', ' connections', ' idle RSS', ' RSS with them', ' RSS per conn.', ' heap per conn.', 'note'];
  return renderTable(
    headers,
    results.map((m) => [
      m.system,
      `${m.connectionsOpened}/${m.connectionsRequested}`,
      formatBytes(m.idleRssBytes),
      formatBytes(m.loadedRssBytes),
      formatBytes(m.perConnectionBytes),
      formatBytes(m.heapPerConnectionBytes),
      m.error ?? '',
    ]),
  );
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2).filter((a) => a === '--quick' || a.startsWith('--runs') || a === '--no-memory'));
  const started = Date.now();
  console.log(`\nCost as work grows (${opts.runs} run(s) per row, ${opts.durationMs} ms windows; ratios per round, median)`);
  const rows = [...(await connectionRows(opts)), ...(await clusterRows(opts))];
  console.log(renderRows(rows));
  // --no-memory: `npm run bench -- --quick` has just measured 1,000 connections in run.js, and reads them from there.
  const counts = !opts.memory ? [] : opts.quick ? [1000] : [1000, 10_000];
  const memory: MemoryResult[] = [];
  for (const count of counts) memory.push(await measureMemory('myrpc-json', count, []));
  if (memory.length > 0) {
    console.log(`\nServer RSS per idle connection (each connection an RpcClient that made one call; after gc()):`);
    console.log(renderMemory(memory));
  }
  console.log(`scale bench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'scale.json'), JSON.stringify({ rows, memory }, null, 2) + '\n');
}

process.on('exit', killAllChildren);
main().catch((err: unknown) => {
  console.error(err);
  killAllChildren();
  process.exit(1);
});
