import { EventEmitter } from 'eventemitter3';
import type { Endpoint } from '../balancer/endpoint';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { clampDelay } from '../util/timers';
import type { Discovery } from './discovery';

export interface DiscoveryEvents {
  /** The registry became unreachable: the list is the last one known. */
  stale: (err: RpcError) => void;
  /** The registry answered again and the list has caught up. */
  fresh: () => void;
}

/**
 * What every registry-fed endpoint source shares: the current list, its subscribers, `ready()`, and the
 * stale/fresh state. A backend only fetches and calls `publish`, `setStale` and `setFresh`.
 */
export abstract class ListDiscovery extends EventEmitter<DiscoveryEvents> implements Discovery {
  private list: readonly Endpoint[] = Object.freeze([]);
  private signature = '';
  private readonly subscribers = new Set<(endpoints: readonly Endpoint[]) => void>();
  private readonly first: Promise<void>;
  private resolveFirst!: () => void;
  private isStale = false;

  constructor() {
    super();
    this.first = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  /** Names the source in errors, e.g. `the registry at 127.0.0.1:7070`. */
  protected abstract describe(): string;

  abstract close(): Promise<void>;

  get stale(): boolean {
    return this.isStale;
  }

  endpoints(): readonly Endpoint[] {
    return this.list;
  }

  subscribe(listener: (endpoints: readonly Endpoint[]) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  /**
   * Unlike the library's other timers, this one holds the process open: someone is waiting for it, and
   * `await discovery.ready()` with the registry down must end in this error, not in a silent exit.
   */
  ready(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RpcError(RpcCode.UNAVAILABLE, `no endpoint list from ${this.describe()} within ${timeoutMs} ms`)),
        clampDelay(timeoutMs),
      );
    });
    return Promise.race([this.first, timeout]).finally(() => clearTimeout(timer));
  }

  /** Takes a complete list; tells subscribers only when what they would see changed. Marks the source ready. */
  protected publish(endpoints: readonly Endpoint[]): void {
    const list = [...endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const signature = JSON.stringify(list);
    if (signature !== this.signature) {
      this.signature = signature;
      this.list = Object.freeze(list);
      for (const l of [...this.subscribers]) l(this.list);
    }
    this.resolveFirst();
  }

  protected setStale(err: RpcError): void {
    if (this.isStale) return;
    this.isStale = true;
    this.emit('stale', err);
  }

  protected setFresh(): void {
    if (!this.isStale) return;
    this.isStale = false;
    this.emit('fresh');
  }
}
