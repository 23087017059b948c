// `node dist/bench/stream.js [--quick] [--rounds=N] [--only=raw,grpc,...] [--cpu-prof]`: items/s of an endless server stream of small
// items and of 1 KiB items for MyRPC (JSON, MessagePack), grpc-js and a raw TCP stream, in the same run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { ChildHandle, killAllChildren } from './child-handle';
import { formatRate, formatRatio, renderTable } from './format';
import type { StreamResult } from './ipc';
import { median } from './stats';
import { STREAM_KINDS, STREAM_SYSTEMS, type StreamItemKind, type StreamSystem } from './stream-consumer';

const RESULTS_DIR = join(resolve(__dirname, '..', '..'), 'bench', 'results');
const READY_TIMEOUT_MS = 30_000;

interface StreamOptions {
  quick: boolean;
  rounds: number;
  warmupMs: number;
  durationMs: number;
  /** One unmeasured stream of each kind per system before the first round, ms: fresh processes run cold code. */
  initialWarmupMs: number;
  cpuProf: boolean;
  systems: StreamSystem[];
}

/** One system's server and consumer processes. */
interface Pair {
  system: StreamSystem;
  server: ChildHandle;
  client: ChildHandle;
}

/** What one system did on one kind of item over the rounds. */
export interface StreamCell {
  kind: StreamItemKind;
  system: StreamSystem;
  /** Median over the rounds. */
  itemsPerSec: number;
  runs: number[];
  serverCpuUsPerItem: number;
  clientCpuUsPerItem: number;
  /** Median items/s over raw's, and over grpc-js's (undefined for those systems themselves). */
  vsRaw?: number;
  vsGrpc?: number;
}

function parseStreamOptions(argv: readonly string[]): StreamOptions {
  const quick = argv.includes('--quick');
  const rounds = Number(argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${rounds}`);
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const systems = only === undefined ? [...STREAM_SYSTEMS] : (only.split(',') as StreamSystem[]);
  for (const s of systems)
    if (!STREAM_SYSTEMS.includes(s)) throw new RangeError(`--only: unknown system '${s}' (${STREAM_SYSTEMS.join(', ')})`);
  const cpuProf = argv.includes('--cpu-prof');
  return {
    quick,
    rounds,
    warmupMs: quick ? 100 : 400,
    durationMs: quick ? 200 : 1500,
    initialWarmupMs: quick ? 200 : 1000,
    cpuProf,
    systems,
  };
}

async function startPair(system: StreamSystem, execArgv: string[]): Promise<Pair> {
  const server = new ChildHandle(`${system} stream server`, 'stream-server-process.js', [system], execArgv);
  const { port } = await server.next('ready', READY_TIMEOUT_MS);
  const client = new ChildHandle(`${system} stream client`, 'stream-client-process.js', [system, String(port)], execArgv);
  await client.next('ready', READY_TIMEOUT_MS);
  return { system, server, client };
}

/** One measured stream, with the server's CPU over it. */
async function measureOnce(pair: Pair, kind: StreamItemKind, o: StreamOptions): Promise<StreamResult & { serverCpuUs: number }> {
  const before = await pair.server.ask({ type: 'cpu' }, 'cpu', READY_TIMEOUT_MS);
  const timeoutMs = o.warmupMs + o.durationMs + READY_TIMEOUT_MS;
  const r = await pair.client.ask({ type: 'stream', kind, warmupMs: o.warmupMs, durationMs: o.durationMs }, 'streamed', timeoutMs);
  const after = await pair.server.ask({ type: 'cpu' }, 'cpu', READY_TIMEOUT_MS);
  return { ...r, serverCpuUs: after.cpuUs - before.cpuUs };
}

async function measureAll(pairs: Pair[], o: StreamOptions): Promise<StreamCell[]> {
  const results = new Map<string, (StreamResult & { serverCpuUs: number })[]>();
  // All pairs at once: it only has to run the code hot, and it keeps the quick mode short.
  await Promise.all(
    pairs.map(async (pair) => {
      for (const { kind } of STREAM_KINDS) await measureOnce(pair, kind, { ...o, warmupMs: o.initialWarmupMs, durationMs: 50 });
    }),
  );
  for (let round = 0; round < o.rounds; round++) {
    for (const { kind } of STREAM_KINDS) {
      // Rotate the order per round, so that no system always runs first (or last) on a warming machine.
      const order = pairs.map((_, i) => pairs[(i + round) % pairs.length]);
      for (const pair of order) {
        const key = `${kind}/${pair.system}`;
        results.set(key, [...(results.get(key) ?? []), await measureOnce(pair, kind, o)]);
      }
    }
  }
  return summarize(results);
}

function summarize(results: Map<string, (StreamResult & { serverCpuUs: number })[]>): StreamCell[] {
  const cells: StreamCell[] = [];
  for (const { kind } of STREAM_KINDS) {
    for (const system of STREAM_SYSTEMS) {
      const runs = results.get(`${kind}/${system}`);
      if (!runs) continue;
      const total = runs.reduce((n, r) => n + r.totalItems, 0);
      cells.push({
        kind,
        system,
        itemsPerSec: median(runs.map((r) => r.itemsPerSec)),
        runs: runs.map((r) => Math.round(r.itemsPerSec)),
        serverCpuUsPerItem: runs.reduce((n, r) => n + r.serverCpuUs, 0) / total,
        clientCpuUsPerItem: runs.reduce((n, r) => n + r.clientCpuUs, 0) / total,
      });
    }
  }
  for (const c of cells) {
    const of = (s: StreamSystem): number | undefined => cells.find((x) => x.kind === c.kind && x.system === s)?.itemsPerSec;
    const raw = of('raw');
    const grpc = of('grpc');
    if (c.system !== 'raw' && raw !== undefined) c.vsRaw = c.itemsPerSec / raw;
    if (c.system !== 'grpc' && c.system !== 'raw' && grpc !== undefined) c.vsGrpc = c.itemsPerSec / grpc;
  }
  return cells;
}

function render(cells: StreamCell[]): string {
  const label = (k: StreamItemKind): string => STREAM_KINDS.find((x) => x.kind === k)?.label ?? k;
  const rows = cells.map((c) => [
    label(c.kind),
    c.system,
    formatRate(c.itemsPerSec),
    c.runs.map(formatRate).join(' / '),
    formatRatio(c.vsRaw),
    formatRatio(c.vsGrpc),
    c.serverCpuUsPerItem.toFixed(2),
    c.clientCpuUsPerItem.toFixed(2),
  ]);
  const headers = ['stream', 'system', ' items/s', ' rounds', ' vs raw', ' vs grpc-js', ' srv CPU µs/item', ' cli CPU µs/item'];
  return renderTable(headers, rows);
}

async function main(): Promise<void> {
  const o = parseStreamOptions(process.argv.slice(2));
  const profiles = join(RESULTS_DIR, 'profiles');
  if (o.cpuProf) mkdirSync(profiles, { recursive: true });
  const execArgv = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : [];
  const started = Date.now();
  const loadBefore = loadavg()[0];
  const pairs = await Promise.all(o.systems.map((s) => startPair(s, execArgv)));
  let cells: StreamCell[];
  try {
    cells = await measureAll(pairs, o);
  } finally {
    await Promise.all(pairs.flatMap((p) => [p.client.stop(), p.server.stop()]));
  }
  const load = [loadBefore, loadavg()[0]].map((l) => l.toFixed(2));
  console.log(
    `\nServer streams, one connection each, median of ${o.rounds} rounds of ${o.durationMs} ms (load average ${load.join(' → ')}, ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s):\n`,
  );
  console.log(render(cells));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = { when: new Date().toISOString(), options: o, loadAverage: load, cells };
  writeFileSync(join(RESULTS_DIR, 'stream.json'), `${JSON.stringify(out, null, 2)}\n`);
}

process.on('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});
main().catch((err) => {
  console.error(err);
  killAllChildren();
  process.exit(1);
});
