import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildMessage, ParentMessage } from './ipc';

type Waiter = { resolve(msg: ChildMessage): void; reject(err: Error): void; timer: NodeJS.Timeout };

const live = new Set<ChildHandle>();

/** Kills every child still running (on the parent's exit or an interrupt); each by its own handle. */
export function killAllChildren(): void {
  for (const child of live) child.kill();
}

/** A forked bench script (a compiled file beside this one) and its IPC messages, awaited by type. */
export class ChildHandle {
  private readonly proc: ChildProcess;
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters = new Map<string, Waiter>();
  private exited: Error | undefined;
  private readonly exitPromise: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    args: string[],
    execArgv: string[],
  ) {
    this.proc = fork(join(__dirname, script), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(this);
    this.proc.on('message', (msg: ChildMessage) => this.onMessage(msg));
    this.proc.on('error', (err) => console.error(`${name}: ${err.message}`)); // e.g. EPIPE on a send racing its exit
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        live.delete(this);
        this.exited = new Error(`${name} exited (${signal ?? `code ${code}`})`);
        for (const [type, w] of this.waiters) this.settle(type, w, this.exited);
        resolve();
      });
    });
  }

  /** The child's process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  send(msg: ParentMessage): void {
    if (this.proc.connected) this.proc.send(msg);
  }

  /** The next message of `type`; rejects on timeout, on an `error` message, or when the child exits. */
  next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const queued = this.inbox.findIndex((m) => m.type === type);
    if (queued >= 0) return Promise.resolve(this.inbox.splice(queued, 1)[0] as Extract<ChildMessage, { type: T }>);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(type);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(type, { resolve: resolve as Waiter['resolve'], reject, timer });
    });
  }

  ask<T extends ChildMessage['type']>(msg: ParentMessage, reply: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const answer = this.next(reply, timeoutMs);
    this.send(msg);
    return answer;
  }

  /** Asks the child to close and exit; kills it if it has not within `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.exited) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  private onMessage(msg: ChildMessage): void {
    if (msg.type === 'error') {
      const err = new Error(`${this.name} failed: ${msg.message}`);
      for (const [type, w] of this.waiters) this.settle(type, w, err);
      return;
    }
    const w = this.waiters.get(msg.type);
    if (w) this.settle(msg.type, w, msg);
    else this.inbox.push(msg);
  }

  private settle(type: string, w: Waiter, outcome: ChildMessage | Error): void {
    clearTimeout(w.timer);
    this.waiters.delete(type);
    if (outcome instanceof Error) w.reject(outcome);
    else w.resolve(outcome);
  }
}
