import { SYSTEMS, type SystemName } from './workloads';

export interface BenchOptions {
  quick: boolean;
  /** Measured runs per cell; the cell reports their median. */
  runs: number;
  /** Warm-up before each measured run, ms (the first cells also get the client's initial warm-up). */
  warmupMs: number;
  /** Measurement window of one run, ms. */
  durationMs: number;
  /** Warm-up each client does over all workloads before its first cell, ms. */
  initialWarmupMs: number;
  /** A call slower than this, or calls still outstanding this long after the window, flag the cell as STALL. */
  stallMs: number;
  systems: SystemName[];
  memory: boolean;
  /** Idle connections opened for the memory measurement. */
  connections: number;
  /** Children run with --cpu-prof, profiles under bench/results/profiles. */
  cpuProf: boolean;
}

const ALIASES: Record<string, SystemName> = {
  json: 'myrpc-json',
  msgpack: 'myrpc-msgpack',
  grpc: 'grpc',
  raw: 'raw',
  tls: 'myrpc-tls',
  intercepted: 'myrpc-intercepted',
};

export const USAGE = `usage: node dist/bench/run.js [--quick] [--only=<system>[,<system>…]] [--no-memory] [--runs=N] [--cpu-prof]
  systems: raw, myrpc-json (json), myrpc-msgpack (msgpack), grpc, raw-tls, myrpc-tls (tls),
  myrpc-intercepted (intercepted: JSON with a pass-through interceptor on server and client), and 'memory'.
  raw always runs with any other system: it is the baseline the ratios are taken against (raw-tls for myrpc-tls,
  and it runs with it).`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const opts: BenchOptions = {
    quick,
    runs: quick ? 1 : 3,
    warmupMs: quick ? 150 : 250,
    durationMs: quick ? 400 : 1500,
    initialWarmupMs: quick ? 500 : 1000,
    stallMs: 5000,
    systems: [...SYSTEMS],
    memory: true,
    connections: 1000,
    cpuProf: false,
  };
  for (const arg of argv) {
    const [flag, value] = arg.split('=', 2);
    if (flag === '--quick') continue;
    else if (flag === '--no-memory') opts.memory = false;
    else if (flag === '--cpu-prof') opts.cpuProf = true;
    else if (flag === '--runs' && Number(value) >= 1) opts.runs = Math.floor(Number(value));
    else if (flag === '--only' && value) applyOnly(opts, value.split(','));
    else throw new Error(`unknown argument '${arg}'\n${USAGE}`);
  }
  return opts;
}

function applyOnly(opts: BenchOptions, names: string[]): void {
  const wanted = new Set<SystemName>();
  opts.memory = false;
  for (const name of names) {
    if (name === 'memory') {
      opts.memory = true;
      continue;
    }
    const system = ALIASES[name] ?? SYSTEMS.find((s) => s === name);
    if (!system) throw new Error(`unknown system '${name}'\n${USAGE}`);
    wanted.add(system);
  }
  if (wanted.size > 0) wanted.add('raw');
  if (wanted.has('myrpc-tls')) wanted.add('raw-tls');
  opts.systems = SYSTEMS.filter((s) => wanted.has(s));
}
