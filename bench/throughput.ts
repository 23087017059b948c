import { ChildHandle } from './child-handle';
import type { LoopResult } from './ipc';
import type { BenchOptions } from './options';
import { median } from './stats';
import { baselineOf, IN_FLIGHT_LEVELS, WORKLOADS, type SystemName, type WorkloadName } from './workloads';

/** One measured run: the client's figures plus the CPU time the server process spent meanwhile. */
export interface RunResult extends LoopResult {
  /** Server CPU (user + system) from just before the run's warm-up to the end of its drain, µs. */
  serverCpuUs: number;
}

/** One system in one cell: the median of its runs, and its ratios to the baseline's medians. */
export interface CellSummary {
  workload: WorkloadName;
  inFlight: number;
  system: SystemName;
  runs: RunResult[];
  callsPerSec: number;
  minCallsPerSec: number;
  maxCallsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU per call, µs (median over runs): less sensitive than calls/s to other load on the machine. */
  serverCpuUsPerCall: number;
  clientCpuUsPerCall: number;
  errors: number;
  stall: boolean;
  /** Why the cell is flagged: STALL reasons and errors. */
  flags: string[];
  /** calls/s over the baseline's calls/s in the same cell (ratio of the medians). */
  ratio?: number;
  /** Round by round: this run's calls/s over the baseline's run of the same round (measured seconds apart). */
  roundRatios?: number[];
  /** p50 over the baseline's p50 in the same cell. */
  p50Ratio?: number;
}

/** A server process and a client process of one system; the client holds ONE connection to the server. */
export class SystemPair {
  private server: ChildHandle | undefined;
  private client: ChildHandle | undefined;

  constructor(
    readonly system: SystemName,
    private readonly opts: BenchOptions,
    private readonly execArgv: string[],
    /** Client connections, calls spread round-robin over them. */
    private readonly connections = 1,
  ) {}

  async start(): Promise<void> {
    this.server = new ChildHandle(`${this.system} server`, 'server-process.js', [this.system], this.execArgv);
    const { port } = await this.server.next('ready', 20_000);
    const args = [this.system, String(port), String(this.opts.initialWarmupMs), String(this.connections)];
    this.client = new ChildHandle(`${this.system} client`, 'client-process.js', args, this.execArgv);
    await this.client.next('ready', 30_000 + this.opts.initialWarmupMs * 2);
  }

  async stop(): Promise<void> {
    await Promise.all([this.client?.stop(), this.server?.stop()]);
  }

  /** One measured run. A run that times out or kills a child counts as a STALL, and the pair is restarted. */
  async run(workload: WorkloadName, inFlight: number): Promise<RunResult> {
    const { warmupMs, durationMs, stallMs } = this.opts;
    try {
      if (!this.client || !this.server) throw new Error('not started');
      const cell = { type: 'cell', workload, inFlight, warmupMs, durationMs, stallMs } as const;
      const before = await this.server.ask({ type: 'cpu' }, 'cpu', 5_000);
      const { type: _type, ...result } = await this.client.ask(cell, 'result', warmupMs + durationMs + stallMs + 10_000);
      const after = await this.server.ask({ type: 'cpu' }, 'cpu', 5_000);
      return { ...result, serverCpuUs: after.cpuUs - before.cpuUs };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`  ! ${this.system} ${workload} @${inFlight}: ${message}; restarting its processes`);
      this.client?.kill();
      this.server?.kill();
      await this.start().catch((e: unknown) => console.error(`  ! ${this.system}: restart failed: ${String(e)}`));
      const nothing = { calls: 0, callsPerSec: 0, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, totalCalls: 0, clientCpuUs: NaN, serverCpuUs: NaN };
      return { ...nothing, errors: 1, firstError: message, windowMs: durationMs, drained: false };
    }
  }
}

export async function startPairs(opts: BenchOptions, execArgv: string[]): Promise<SystemPair[]> {
  // All at once: loading code and the initial warm-up took about a second per system one after the other, and no
  // figure is measured until every pair is up (each cell has its own warm-up as well).
  const pairs = opts.systems.map((system) => new SystemPair(system, opts, execArgv));
  const started = await Promise.allSettled(pairs.map((p) => p.start()));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await stopPairs(pairs);
    throw failed.reason;
  }
  return pairs;
}

export async function stopPairs(pairs: SystemPair[]): Promise<void> {
  await Promise.all(pairs.map((p) => p.stop()));
}

/**
 * Every cell (workload × in-flight level), `runs` rounds; within a round each system runs once, in an order
 * rotated from round to round, so that the baseline and the others are measured close together in time.
 */
export async function measureCells(pairs: SystemPair[], opts: BenchOptions, onCell: (cell: CellSummary[]) => void): Promise<CellSummary[]> {
  const all: CellSummary[] = [];
  for (const { name: workload } of WORKLOADS) {
    for (const inFlight of IN_FLIGHT_LEVELS) {
      const runs = new Map<SystemName, RunResult[]>(pairs.map((p) => [p.system, []]));
      for (let round = 0; round < opts.runs; round++) {
        for (let i = 0; i < pairs.length; i++) {
          const pair = pairs[(i + round) % pairs.length];
          runs.get(pair.system)?.push(await pair.run(workload, inFlight));
        }
      }
      const cell = pairs.map((p) => summarize(workload, inFlight, p.system, runs.get(p.system) ?? [], opts.stallMs));
      addRatios(cell);
      onCell(cell);
      all.push(...cell);
    }
  }
  return all;
}

function summarize(workload: WorkloadName, inFlight: number, system: SystemName, runs: RunResult[], stallMs: number): CellSummary {
  const rates = runs.map((r) => r.callsPerSec);
  const flags: string[] = [];
  const maxMs = Math.max(...runs.map((r) => (Number.isNaN(r.maxMs) ? 0 : r.maxMs)));
  if (runs.some((r) => r.calls === 0)) flags.push('STALL: a run completed 0 calls');
  if (runs.some((r) => !r.drained)) flags.push(`STALL: calls still outstanding ${stallMs} ms after the window`);
  if (maxMs > stallMs) flags.push(`STALL: a call took ${(maxMs / 1000).toFixed(1)} s`);
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  if (errors > 0) flags.push(`ERRORS: ${errors} (${runs.find((r) => r.firstError)?.firstError ?? '?'})`);
  return {
    workload,
    inFlight,
    system,
    runs,
    callsPerSec: median(rates),
    minCallsPerSec: Math.min(...rates),
    maxCallsPerSec: Math.max(...rates),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    maxMs,
    serverCpuUsPerCall: median(runs.map((r) => r.serverCpuUs / r.totalCalls)),
    clientCpuUsPerCall: median(runs.map((r) => r.clientCpuUs / r.totalCalls)),
    errors,
    stall: flags.some((f) => f.startsWith('STALL')),
    flags,
  };
}

function addRatios(cell: CellSummary[]): void {
  for (const c of cell) {
    const base = cell.find((b) => b.system === baselineOf(c.system));
    if (!base) continue;
    c.ratio = c.callsPerSec / base.callsPerSec;
    c.roundRatios = c.runs.map((r, i) => r.callsPerSec / base.runs[i].callsPerSec);
    c.p50Ratio = c.p50Ms / base.p50Ms;
  }
}
