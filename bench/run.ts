import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { judgeBars, renderBars } from './bars';
import { killAllChildren } from './child-handle';
import { formatBytes, formatLatency, formatRate, formatRatio, renderTable } from './format';
import { measureMemory, openFileLimit, type MemoryResult } from './memory';
import { parseOptions, USAGE, type BenchOptions } from './options';
import { measureCells, startPairs, stopPairs, type CellSummary } from './throughput';
import { benchTls } from './tls-material';
import { WORKLOADS } from './workloads';

/**
 * `npm run bench`: MyRPC (JSON and MessagePack codecs), @grpc/grpc-js and a raw length-prefixed JSON echo over
 * node:net, each as a server process and a client process on 127.0.0.1 over one connection; closed loop at 1, 64
 * and 256 calls in flight; then the MyRPC server's RSS idle and with 1,000 idle connections.
 */

const REPO_ROOT = resolve(__dirname, '..', '..');
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

function machine(): Record<string, unknown> {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? '?',
    totalMemBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** The commit measured, with a mark when the work tree differs from it. */
function revision(): string {
  try {
    const git = (args: string[]): string =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'src']) === '' ? '' : ' (src/ modified)'}`;
  } catch {
    return 'unknown';
  }
}

function workloadLabel(name: string): string {
  return WORKLOADS.find((w) => w.name === name)?.label ?? name;
}

function tableRows(cells: CellSummary[]): string[][] {
  return cells.map((c) => {
    const spread = c.runs.length > 1 ? `${formatRate(c.minCallsPerSec)}–${formatRate(c.maxCallsPerSec)}` : '';
    const cpu = [c.serverCpuUsPerCall, c.clientCpuUsPerCall].map((us) => (Number.isFinite(us) ? us.toFixed(1) : '-'));
    return [
      workloadLabel(c.workload),
      String(c.inFlight),
      c.system,
      formatRate(c.callsPerSec),
      spread,
      formatLatency(c.p50Ms),
      formatLatency(c.p99Ms),
      formatRatio(c.ratio),
      formatRatio(c.p50Ratio),
      ...cpu,
      c.flags.join('; '),
    ];
  });
}

function renderCells(cells: CellSummary[]): string {
  const headers = [
    'workload',
    ' in flight',
    'system',
    ' calls/s',
    ' runs min–max',
    ' p50',
    ' p99',
    ' calls/s vs raw',
    ' p50 vs raw',
    ' srv CPU µs/call',
    ' cli CPU µs/call',
    'flags',
  ];
  return renderTable(headers, tableRows(cells));
}

function renderMemory(results: MemoryResult[]): string {
  const headers = [
    'server',
    ' idle RSS',
    ' connections',
    ' RSS with them',
    ' RSS per conn.',
    ' heap idle → loaded',
    ' heap per conn.',
    'note',
  ];
  const rows = results.map((m) => [
    m.system,
    formatBytes(m.idleRssBytes),
    `${m.connectionsOpened}/${m.connectionsRequested}${m.serverConnections >= 0 ? ` (server sees ${m.serverConnections})` : ''}`,
    formatBytes(m.loadedRssBytes),
    formatBytes(m.perConnectionBytes),
    `${formatBytes(m.idleHeapUsedBytes)} → ${formatBytes(m.loadedHeapUsedBytes)}`,
    formatBytes(m.heapPerConnectionBytes),
    [m.gcExposed ? 'after gc()' : 'no --expose-gc', m.error ?? ''].filter(Boolean).join('; '),
  ]);
  return renderTable(headers, rows);
}

async function runMemory(opts: BenchOptions, execArgv: string[]): Promise<{ results: MemoryResult[]; note?: string }> {
  const limit = openFileLimit();
  const needed = opts.connections + 200;
  if (!(limit >= needed)) {
    const note = `memory test skipped: open-file limit (ulimit -n) is ${limit}, need ≥ ${needed}; raise it with 'ulimit -n 4096'`;
    console.log(note);
    return { results: [], note };
  }
  console.log(`\nServer RSS, idle and with ${opts.connections.toLocaleString('en-US')} idle connections (ulimit -n ${limit}) …`);
  const results: MemoryResult[] = [];
  for (const system of ['myrpc-json', 'raw'] as const) results.push(await measureMemory(system, opts.connections, execArgv));
  console.log(renderMemory(results));
  console.log('  (raw: the baseline server holding plain sockets, for scale)');
  return { results };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) return console.log(USAGE);
  const opts = parseOptions(process.argv.slice(2));
  const started = new Date();
  const execArgv = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS_DIR, 'profiles')}`] : [];
  const loadBefore = loadavg();
  console.log(`MyRPC benchmark — ${started.toISOString()}`);
  console.log(`revision: ${revision()}`);
  console.log(`machine: ${JSON.stringify(machine())}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  if (loadBefore[0] > cpus().length / 2) {
    console.log(
      `WARNING: the machine is already busy (1-minute load ${loadBefore[0].toFixed(2)} on ${cpus().length} CPUs): absolute figures will be low and noisy; ratios less so`,
    );
  }
  console.log(
    `mode: ${opts.quick ? 'quick' : 'full'}; ${opts.runs} run(s) per cell, each ${opts.warmupMs} ms warm-up + ${opts.durationMs} ms measured, median reported; systems: ${opts.systems.join(', ')}`,
  );

  let cells: CellSummary[] = [];
  if (opts.systems.some((s) => s.endsWith('-tls'))) benchTls(); // once, here: the children inherit its folder
  if (opts.systems.length > 0) {
    const pairs = await startPairs(opts, execArgv);
    try {
      console.log('');
      let first = true;
      cells = await measureCells(pairs, opts, (cell) => {
        const text = renderCells(cell).split('\n');
        console.log((first ? text : text.slice(2)).join('\n'));
        first = false;
      });
    } finally {
      await stopPairs(pairs);
    }
  }
  const memory = opts.memory ? await runMemory(opts, execArgv) : { results: [] };

  const verdicts = judgeBars(cells);
  const finished = new Date();
  if (cells.length > 0) {
    console.log(`\nResults (median of ${opts.runs} run(s) per cell; ratios against raw in the same run):\n`);
    console.log(renderCells(cells));
    console.log('\nTargets:');
    console.log(renderBars(verdicts));
  }
  console.log(
    `\nload average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; took ${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s`,
  );

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'latest.json');
  const report = {
    revision: revision(),
    started: started.toISOString(),
    finished: finished.toISOString(),
    machine: machine(),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    options: opts,
    cells,
    memory,
    bars: verdicts,
  };
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`results written to ${file}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}
process.on('exit', killAllChildren);

main().catch((err: unknown) => {
  console.error(err);
  killAllChildren();
  process.exit(1);
});
