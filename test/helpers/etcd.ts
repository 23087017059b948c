import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Etcd3 } from 'etcd3';

/** Where the etcd server binary is: /usr/bin/etcd (Debian's etcd-server) or `etcd` on PATH. */
export const ETCD_BINARY: string | undefined = findEtcd();

/** `false` when etcd is here; otherwise the reason, for node:test's `{ skip }`. */
export const SKIP_WITHOUT_ETCD: string | false = ETCD_BINARY
  ? false
  : 'etcd server not found (/usr/bin/etcd or etcd on PATH): install it with `apt-get install -y etcd-server`';

const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 5_000;

function findEtcd(): string | undefined {
  const dirs = ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = join(dir, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; it is released again before anyone binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One etcd member on 127.0.0.1 with its own data directory. It can be killed and started again on the same
 * ports and data (an etcd restart), and `dispose()` removes everything it made.
 */
export class EtcdProcess {
  private child: ChildProcess | undefined;
  private readonly killOnExit = (): void => void this.child?.kill('SIGKILL');

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
  ) {
    process.once('exit', this.killOnExit);
  }

  /** Starts etcd on free ports and waits until it serves requests. */
  static async start(): Promise<EtcdProcess> {
    if (!ETCD_BINARY) throw new Error(SKIP_WITHOUT_ETCD as string);
    const dataDir = mkdtempSync(join(tmpdir(), 'myrpc-etcd-'));
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    const etcd = new EtcdProcess(clientPort, peerPort, dataDir);
    try {
      await etcd.restart();
    } catch (err) {
      await etcd.dispose();
      throw err;
    }
    return etcd;
  }

  /** The client URL, for `hosts`. */
  get url(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts etcd (again) on the same ports and data directory, and waits until it serves requests. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('etcd is already running');
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--name',
      'default',
      '--data-dir',
      join(this.dataDir, 'data'),
      '--listen-client-urls',
      this.url,
      '--advertise-client-urls',
      this.url,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `default=${peer}`,
      '--log-level',
      'error',
      '--logger',
      'zap',
    ];
    const log = openSync(join(this.dataDir, 'etcd.log'), 'a');
    try {
      this.child = spawn(ETCD_BINARY as string, args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    await this.waitReady();
  }

  /** Stops etcd: SIGKILL (a crash, the default) or SIGTERM (a clean stop). Resolves once it has exited. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** SIGSTOP: etcd freezes with its connections open, as a stalled process or VM does. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT: a paused etcd goes on (and expires the leases whose keep-alives it missed). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills etcd and removes its data directory. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    process.off('exit', this.killOnExit);
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A client of this etcd (the caller closes it). */
  async client(): Promise<Etcd3> {
    const { Etcd3 } = await import('etcd3');
    return new Etcd3({ hosts: this.url });
  }

  /** The tail of etcd's own log, for a failure message. */
  logTail(lines = 20): string {
    try {
      return readFileSync(join(this.dataDir, 'etcd.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Polls with a fresh etcd3 client per try (a shared one would open its circuit breaker after three refused
   * connections and then wait five seconds) until a read succeeds.
   */
  private async waitReady(): Promise<void> {
    const stopAt = Date.now() + READY_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < stopAt) {
      if (!this.running) throw new Error(`etcd exited during start-up:\n${this.logTail()}`);
      const client = await this.client();
      try {
        await client
          .get('myrpc-test-probe')
          .options({ deadline: Date.now() + 1000 })
          .string();
        return;
      } catch (err) {
        lastError = err;
      } finally {
        client.close();
      }
      await sleep(100);
    }
    throw new Error(`etcd did not answer within ${READY_TIMEOUT_MS} ms (${String(lastError)}):\n${this.logTail()}`);
  }
}

/** Polls `check` (sync or async; a throw counts as "not yet") every 50 ms until it is true, within a bounded time. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return Date.now() - started;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(50);
  }
}
