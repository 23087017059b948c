// `npm run bench [-- --quick]`: every benchmark in turn, each in its own processes, then one table of ratios.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatRatio, renderTable } from './format';
import type { CellSummary } from './throughput';
import type { RegistryFigures } from './registry';
import type { ScaleRow } from './scale';
import type { MemoryResult } from './memory';
import type { StreamCell } from './stream';

const RESULTS_DIR = join(resolve(__dirname, '..', '..'), 'bench', 'results');

function step(script: string, args: string[]): void {
  const r = spawnSync(process.execPath, [join(__dirname, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} failed (${r.signal ?? `exit ${r.status}`})`);
}

function readJson<T>(name: string): T | undefined {
  const file = join(RESULTS_DIR, name);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

function mainRows(cells: CellSummary[]): string[][] {
  const rows: string[][] = [];
  const find = (w: string, n: number, s: string): CellSummary | undefined =>
    cells.find((c) => c.workload === w && c.inFlight === n && c.system === s);
  for (const [w, label] of [
    ['add', 'add'],
    ['echo-1k', 'echo 1 KiB'],
    ['echo-64k', 'echo 64 KiB'],
  ] as const) {
    for (const n of [1, 64]) {
      const json = find(w, n, 'myrpc-json');
      const msgpack = find(w, n, 'myrpc-msgpack');
      if (json?.ratio !== undefined) rows.push([`${label} @${n}`, 'MyRPC JSON vs raw, calls/s', formatRatio(json.ratio)]);
      if (n === 1 && json?.p50Ratio !== undefined) rows.push([`${label} @${n}`, 'MyRPC JSON vs raw, p50', formatRatio(json.p50Ratio)]);
      if (json && msgpack)
        rows.push([`${label} @${n}`, 'MessagePack vs JSON, calls/s', formatRatio(msgpack.callsPerSec / json.callsPerSec)]);
      const intercepted = find(w, n, 'myrpc-intercepted');
      if (json && intercepted) {
        // One pass-through interceptor on each side; an empty chain runs the very code of no chain (undefined).
        rows.push([
          `${label} @${n}`,
          'pass-through interceptors vs none, calls/s',
          formatRatio(intercepted.callsPerSec / json.callsPerSec),
        ]);
        const cpu = (c: CellSummary): number => c.serverCpuUsPerCall + c.clientCpuUsPerCall;
        if (n > 1)
          rows.push([`${label} @${n}`, 'pass-through interceptors vs none, CPU per call', formatRatio(cpu(intercepted) / cpu(json))]);
      }
      const tls = find(w, n, 'myrpc-tls');
      if (tls?.ratio !== undefined) rows.push([`${label} @${n}`, 'MyRPC over TLS vs raw TLS, calls/s', formatRatio(tls.ratio)]);
    }
  }
  return rows;
}

function scaleRows(rows: ScaleRow[], memory: MemoryResult[]): string[][] {
  const out: string[][] = [];
  for (const r of rows.filter((x) => x.system !== 'raw' && x.baseline !== x.system && x.ratio !== 1)) {
    out.push([r.what, `${r.system} vs ${r.baseline}, calls/s`, formatRatio(r.ratio)]);
    const base = rows.find((b) => b.what === r.what && b !== r);
    // CPU per call says what the extra layer costs even when load makes calls/s swing.
    if (base && Number.isFinite(r.clientCpuUsPerCall) && Number.isFinite(base.clientCpuUsPerCall))
      out.push([r.what, `${r.system} vs ${r.baseline}, client CPU per call`, formatRatio(r.clientCpuUsPerCall / base.clientCpuUsPerCall)]);
  }
  for (const m of memory)
    out.push([
      `${m.connectionsOpened.toLocaleString('en-US')} idle connections`,
      'server RSS per connection',
      `${(m.perConnectionBytes / 1024).toFixed(1)} KiB`,
    ]);
  return out;
}

function registryRows(f: RegistryFigures): string[][] {
  const n = f.instances.toLocaleString('en-US');
  return [
    [
      `registry, ${n} instances`,
      'register / renew per second',
      `${Math.round(f.registerPerSec).toLocaleString('en-US')} / ${Math.round(f.renewPerSec).toLocaleString('en-US')}`,
    ],
    [`registry, ${n} instances`, 'list p50; change notification p50', `${f.listP50Ms.toFixed(1)} ms; ${f.notifyP50Ms.toFixed(1)} ms`],
  ];
}

function streamRows(cells: StreamCell[]): string[][] {
  const rows: string[][] = [];
  for (const [kind, label] of [
    ['small', 'stream of { i }'],
    ['1k', 'stream of 1 KiB items'],
  ] as const) {
    for (const [system, name] of [
      ['myrpc-json', 'MyRPC JSON'],
      ['myrpc-msgpack', 'MessagePack'],
    ] as const) {
      const c = cells.find((x) => x.kind === kind && x.system === system);
      if (c?.vsRaw !== undefined) rows.push([label, `${name} vs raw, items/s`, formatRatio(c.vsRaw)]);
      if (c?.vsGrpc !== undefined) rows.push([label, `${name} vs grpc-js, items/s`, formatRatio(c.vsGrpc)]);
    }
  }
  return rows;
}

function main(): void {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const started = Date.now();
  step('run.js', args);
  // A quick run measures 1,000 idle connections once, in run.js; the summary takes them from its results.
  const scaleArgs = args.filter((a) => a === '--quick' || a.startsWith('--runs'));
  step('scale.js', quick && !args.includes('--no-memory') ? [...scaleArgs, '--no-memory'] : scaleArgs);
  step('registry.js', quick ? ['--quick'] : []);
  step('ring.js', []);
  step('dead-endpoints.js', [quick ? '1' : '5']);
  step('stream.js', quick ? ['--quick'] : []);
  const cells = readJson<{ cells: CellSummary[] }>('latest.json')?.cells ?? [];
  const scale = readJson<{ rows: ScaleRow[]; memory: MemoryResult[] }>('scale.json');
  const runMemory = readJson<{ memory: { results: MemoryResult[] } }>('latest.json')?.memory.results ?? [];
  if (scale && scale.memory.length === 0) scale.memory = runMemory.filter((m) => m.system === 'myrpc-json');
  const registry = readJson<RegistryFigures>('registry.json');
  const stream = readJson<{ cells: StreamCell[] }>('stream.json')?.cells ?? [];
  const rows = [
    ...mainRows(cells),
    ...streamRows(stream),
    ...(scale ? scaleRows(scale.rows, scale.memory) : []),
    ...(registry ? registryRows(registry) : []),
  ];
  let revision = 'unknown';
  try {
    revision = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }
  console.log(
    `\nSummary (${quick ? 'quick' : 'full'} run at ${revision}, ${((Date.now() - started) / 1000).toFixed(0)} s; ratios within the same run):\n`,
  );
  console.log(renderTable(['cell', 'figure', ' value'], rows));
}

main();
