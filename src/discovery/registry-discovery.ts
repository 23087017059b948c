import { EventEmitter } from 'eventemitter3';
import { makeEndpoint, type Endpoint } from '../balancer/endpoint';
import { RpcClient } from '../client/rpc-client';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { clampDelay, unrefTimer } from '../util/timers';
import type { Discovery } from './discovery';
import { loadAwareWeight } from './load-weight';
import { parseRegistryAddress, type RegistryAddress } from './registry-address';
import type { InstanceInfo, Snapshot } from './registry-service';

export interface RegistryDiscoveryOptions {
  registry: RegistryAddress;
  /** The service name servers registered under. */
  service: string;
  /** Longest a long poll waits for a change, ms. Default 30 s. */
  waitMs?: number;
  /** Divide each weight by the server's reported load (see `loadAwareWeight`). Default false. */
  loadAwareWeights?: boolean;
  /** Backoff between failed polls, ms: from `minRetryMs` (100) doubling to `maxRetryMs` (2000). */
  minRetryMs?: number;
  maxRetryMs?: number;
}

export interface DiscoveryEvents {
  /** The registry became unreachable: the list is the last one known. */
  stale: (err: RpcError) => void;
  /** The registry answered again (or for the first time). */
  fresh: () => void;
}

/**
 * Client-side discovery from the built-in registry: a long poll that returns as soon as the service's list
 * changes. While the registry is unreachable it keeps its last list, marked stale, and keeps retrying.
 */
export class RegistryDiscovery extends EventEmitter<DiscoveryEvents> implements Discovery {
  private list: readonly Endpoint[] = Object.freeze([]);
  private readonly subscribers = new Set<(endpoints: readonly Endpoint[]) => void>();
  private readonly client: RpcClient;
  private readonly controller = new AbortController();
  private epoch = '';
  private index = -1;
  private first: Promise<void>;
  private resolveFirst!: () => void;
  private isStale = false;
  private readonly loop: Promise<void>;

  constructor(private readonly options: RegistryDiscoveryOptions) {
    super();
    const { host, port } = parseRegistryAddress(options.registry);
    this.client = new RpcClient({ host, port, connectTimeoutMs: 2000 });
    this.client.on('error', () => undefined);
    this.first = new Promise((resolve) => (this.resolveFirst = resolve));
    this.loop = this.run();
  }

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

  ready(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = unrefTimer(setTimeout(() => reject(new RpcError(RpcCode.UNAVAILABLE, `no answer from the registry for '${this.options.service}' within ${timeoutMs} ms`)), clampDelay(timeoutMs)));
    });
    return Promise.race([this.first, timeout]).finally(() => clearTimeout(timer));
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.loop;
    await this.client.close();
  }

  private async run(): Promise<void> {
    const waitMs = this.options.waitMs ?? 30_000;
    const minRetry = this.options.minRetryMs ?? 100;
    const maxRetry = this.options.maxRetryMs ?? 2000;
    let retryMs = minRetry;
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        const snapshot = (await this.client.call('MyRpcRegistry', 'watch', [this.options.service, this.epoch, this.index, waitMs], { timeoutMs: waitMs + 5000, signal })) as Snapshot;
        retryMs = minRetry;
        this.setFresh();
        this.apply(snapshot);
      } catch (err) {
        if (signal.aborted) return;
        this.setStale(err as RpcError);
        await sleep(retryMs * (0.8 + 0.4 * Math.random()), signal);
        retryMs = Math.min(maxRetry, retryMs * 2);
      }
    }
  }

  private apply(snapshot: Snapshot): void {
    const changed = snapshot.epoch !== this.epoch || snapshot.index !== this.index;
    this.epoch = snapshot.epoch;
    this.index = snapshot.index;
    if (changed) {
      this.list = Object.freeze(snapshot.instances.map((i) => this.toEndpoint(i)));
      for (const l of [...this.subscribers]) l(this.list);
    }
    this.resolveFirst();
  }

  private toEndpoint(i: InstanceInfo): Endpoint {
    const weight = this.options.loadAwareWeights ? loadAwareWeight(i.weight, i.load) : i.weight;
    return makeEndpoint({ id: i.id, host: i.host, port: i.port, weight, metadata: i.metadata });
  }

  private setStale(err: RpcError): void {
    if (this.isStale) return;
    this.isStale = true;
    this.emit('stale', err);
  }

  private setFresh(): void {
    if (!this.isStale) return;
    this.isStale = false;
    this.emit('fresh');
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
