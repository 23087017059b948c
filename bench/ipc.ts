import type { SystemName, WorkloadName } from './workloads';

/** Messages between the parent (run.ts) and its children, over the fork IPC channel. */

export interface CellRequest {
  type: 'cell';
  workload: WorkloadName;
  inFlight: number;
  warmupMs: number;
  durationMs: number;
  stallMs: number;
}

/** What one measured run of one cell produced (client side). */
export interface LoopResult {
  /** Calls completed inside the measurement window. */
  calls: number;
  /** Calls that failed at any point of the run; a worker stops at its first failure. */
  errors: number;
  firstError?: string;
  windowMs: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Slowest call seen, warm-up and drain included. */
  maxMs: number;
  /** Whether every outstanding call answered within `stallMs` of the window's end. */
  drained: boolean;
  /** Calls completed over the whole run (warm-up, window and drain), the denominator of the CPU figures. */
  totalCalls: number;
  /** CPU time (user + system) the client process spent over the whole run, µs. */
  clientCpuUs: number;
}

export interface CpuReport {
  /** process.cpuUsage(): user + system, µs since the process started. */
  cpuUs: number;
}

export interface MemoryReport {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  connections: number;
  gcExposed: boolean;
}

export interface ClientsOpened {
  opened: number;
  failed: number;
  firstError?: string;
  rssBytes: number;
}

/** bench/stream.ts: consume one endless server stream of `kind` items; count those that arrive in the window. */
export interface StreamRequest {
  type: 'stream';
  kind: 'small' | '1k';
  warmupMs: number;
  durationMs: number;
}

export interface StreamResult {
  /** Items received inside the measurement window. */
  items: number;
  windowMs: number;
  itemsPerSec: number;
  /** Items received over the whole stream (warm-up included), the denominator of the CPU figure. */
  totalItems: number;
  /** CPU time (user + system) the client process spent over the whole stream, µs. */
  clientCpuUs: number;
}

export type ChildMessage =
  | { type: 'ready'; port?: number }
  | ({ type: 'streamed' } & StreamResult)
  | ({ type: 'result' } & LoopResult)
  | ({ type: 'memory' } & MemoryReport)
  | ({ type: 'opened' } & ClientsOpened)
  | ({ type: 'cpu' } & CpuReport)
  | { type: 'error'; message: string };

export type ParentMessage = CellRequest | StreamRequest | { type: 'memory' } | { type: 'cpu' } | { type: 'stop' };

export function cpuNowUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export interface ChildArgs {
  system: SystemName;
  port: number;
}

/** Sends to the parent; a child without a parent has nothing to do and leaves. */
export function toParent(msg: ChildMessage): void {
  if (!process.send) throw new Error('this script is started by bench/run.ts through child_process.fork');
  process.send(msg);
}

/** Reports a fatal error to the parent, then exits once the message is out (or after 1 s). */
export function failChild(err: unknown): void {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error(message);
  setTimeout(() => process.exit(1), 1000).unref();
  if (process.send && process.connected) process.send({ type: 'error', message } satisfies ChildMessage, () => process.exit(1));
  else process.exit(1);
}

/** A child exits with its parent: no orphan keeps a port or a CPU busy. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}
