import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildHandle } from './child-handle';
import type { SystemName } from './workloads';

export interface MemoryResult {
  system: SystemName;
  gcExposed: boolean;
  idleRssBytes: number;
  idleHeapUsedBytes: number;
  connectionsRequested: number;
  connectionsOpened: number;
  /** Connections as the server counts them once the clients are open (-1: the system does not tell). */
  serverConnections: number;
  loadedRssBytes: number;
  loadedHeapUsedBytes: number;
  /** (loaded − idle) RSS / connections: coarse, RSS moves in pages and allocator arenas. */
  perConnectionBytes: number;
  /** (loaded − idle) V8 heap in use / connections: the JS objects each connection keeps. */
  heapPerConnectionBytes: number;
  /** RSS of the process holding all the clients, for scale. */
  clientsRssBytes: number;
  error?: string;
}

/** The soft limit on open files of this shell; children inherit it. */
export function openFileLimit(): number {
  try {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Infinity : Number(out);
  } catch {
    return NaN;
  }
}

/**
 * Raises a child's soft limit on open files to `needed` (at most its hard limit) with prlimit(1), so that the
 * shell's `ulimit -n` does not have to be raised by hand. Returns the limit in force afterwards.
 */
export function raiseFileLimit(pid: number | undefined, needed: number): number {
  if (pid === undefined) return NaN;
  try {
    const [soft, hard] = execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--raw', '--noheadings', '--output=SOFT,HARD'], {
      encoding: 'utf8',
    })
      .trim()
      .split(/\s+/)
      .map(Number);
    if (soft >= needed) return soft;
    const wanted = Math.min(needed, hard);
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${wanted}:${hard}`]);
    return wanted;
  } catch {
    return NaN;
  }
}

/**
 * Server RSS idle, then with `count` idle connections, each opened by its own client that made one call.
 * Its own pair of processes; the server runs with --expose-gc and collects garbage before each reading.
 */
export async function measureMemory(system: SystemName, count: number, execArgv: string[]): Promise<MemoryResult> {
  const server = new ChildHandle(`${system} memory server`, 'server-process.js', [system], ['--expose-gc', ...execArgv]);
  raiseFileLimit(server.pid, count + 200);
  let clients: ChildHandle | undefined;
  try {
    const { port } = await server.next('ready', 20_000);
    await sleep(500);
    const idle = await server.ask({ type: 'memory' }, 'memory', 10_000);
    clients = new ChildHandle(`${system} memory clients`, 'memory-client-process.js', [system, String(port), String(count)], execArgv);
    raiseFileLimit(clients.pid, count + 200);
    const opened = await clients.next('opened', 120_000);
    await sleep(500);
    const loaded = await server.ask({ type: 'memory' }, 'memory', 10_000);
    return {
      system,
      gcExposed: idle.gcExposed,
      idleRssBytes: idle.rssBytes,
      idleHeapUsedBytes: idle.heapUsedBytes,
      connectionsRequested: count,
      connectionsOpened: opened.opened,
      serverConnections: loaded.connections,
      loadedRssBytes: loaded.rssBytes,
      loadedHeapUsedBytes: loaded.heapUsedBytes,
      perConnectionBytes: (loaded.rssBytes - idle.rssBytes) / Math.max(1, opened.opened),
      heapPerConnectionBytes: (loaded.heapUsedBytes - idle.heapUsedBytes) / Math.max(1, opened.opened),
      clientsRssBytes: opened.rssBytes,
      error: opened.failed > 0 ? `${opened.failed} clients failed: ${opened.firstError ?? '?'}` : undefined,
    };
  } finally {
    await clients?.stop();
    await server.stop();
  }
}
