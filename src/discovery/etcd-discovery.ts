import type { Etcd3, IKeyValue, IWatchResponse } from 'etcd3';
import { makeEndpoint, type Endpoint } from '../balancer/endpoint';
import { Backoff, sleep } from '../util/backoff';
import { clampDelay, unrefTimer } from '../util/timers';
import { DEFAULT_ETCD_REQUEST_TIMEOUT_MS, EtcdClientHandle, etcdUnavailable, within, type EtcdConnectionOptions } from './etcd-client';
import { DEFAULT_ETCD_PREFIX, decodeEtcdInstance, etcdServicePrefix } from './etcd-key-layout';
import { ListDiscovery, type DiscoveryEvents } from './list-discovery';
import { loadAwareWeight } from './load-weight';

export interface EtcdDiscoveryOptions extends EtcdConnectionOptions {
  /** The service name servers registered under. */
  service: string;
  /** Key prefix shared by servers and clients. Default `/myrpc`. */
  prefix?: string;
  /** Divide each weight by the server's reported load (see `loadAwareWeight`). Default false. */
  loadAwareWeights?: boolean;
  /** Deadline of each full read of the list, ms. Default 5000. */
  requestTimeoutMs?: number;
  /** Backoff between tries while etcd is unreachable, ms: from `minRetryMs` (100) doubling to `maxRetryMs` (2000). */
  minRetryMs?: number;
  maxRetryMs?: number;
  /**
   * How long an endpoint whose key vanished (deleted, or its lease expired) stays on the list, ms, in case
   * the key returns (an etcd stall that expired a live server's lease, which its registrar grants again at
   * once). A key that returns cancels the removal; a server that deregisters gracefully marks its key
   * draining first and leaves at once. Default 5 s; 0 removes at once.
   */
  removalGraceMs?: number;
}

export const DEFAULT_ETCD_REMOVAL_GRACE_MS = 5_000;

/** The same events as every registry-fed source. */
export type EtcdDiscoveryEvents = DiscoveryEvents;

/** How long the watch must have lived before a failure starts the backoff from its minimum again, ms. */
const WATCH_SETTLED_MS = 5_000;
/** Longest we wait for etcd to confirm a watch's cancellation when stopping, ms. */
const CANCEL_WAIT_MS = 1_000;

/**
 * Client-side discovery of one service from etcd: a full read of `<prefix>/services/<service>/`, then a watch
 * from the revision after that read, so no change falls between them. When the watch drops (etcd stopped, or
 * the connection broke) it reads the whole list again before watching again; while that read fails the list
 * stays as it was and `stale` is true.
 */
export class EtcdDiscovery extends ListDiscovery {
  private entries = new Map<string, Endpoint>();
  private readonly handle: EtcdClientHandle;
  private readonly keyPrefix: string;
  private readonly requestTimeoutMs: number;
  private readonly stop = new AbortController();
  private endWatch: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private readCount = 0;
  private readonly removalGraceMs: number;
  /** Endpoints whose key vanished, by id: the timer that removes them unless the key returns first. */
  private readonly removals = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: EtcdDiscoveryOptions) {
    super();
    this.removalGraceMs = options.removalGraceMs ?? DEFAULT_ETCD_REMOVAL_GRACE_MS;
    if (!(this.removalGraceMs >= 0)) throw new RangeError('removalGraceMs must be >= 0');
    this.handle = new EtcdClientHandle(options);
    this.keyPrefix = etcdServicePrefix(options.prefix ?? DEFAULT_ETCD_PREFIX, options.service);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_ETCD_REQUEST_TIMEOUT_MS;
    this.loop = this.run();
  }

  /** Full reads of the list that succeeded: the first one, then one per catch-up after the watch dropped. */
  get reads(): number {
    return this.readCount;
  }

  protected describe(): string {
    return `${this.handle.where} for '${this.options.service}'`;
  }

  /** Ids whose key vanished and that are kept for the removal grace. */
  get pendingRemovals(): string[] {
    return [...this.removals.keys()].sort();
  }

  /** Cancels the watch and closes the etcd client if it was made here; the list stays as it was. */
  async close(): Promise<void> {
    this.stop.abort();
    for (const timer of this.removals.values()) clearTimeout(timer);
    this.removals.clear();
    this.endWatch?.();
    await this.loop;
    await this.handle.close();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(this.options.minRetryMs ?? 100, this.options.maxRetryMs ?? 2_000);
    const signal = this.stop.signal;
    while (!signal.aborted) {
      let client: Etcd3;
      let revision: string;
      try {
        client = await this.handle.get();
        revision = await untilAborted(this.readAll(client), signal);
      } catch (err) {
        if (signal.aborted) return;
        this.setStale(etcdUnavailable(this.handle.where, `reading ${this.keyPrefix}`, err));
        await sleep(backoff.next(), signal);
        continue;
      }
      this.setFresh();
      const watchedMs = await this.watchFrom(client, revision);
      if (watchedMs >= WATCH_SETTLED_MS) backoff.reset();
      else await sleep(backoff.next(), signal); // a watch that keeps dropping at once must not spin
    }
  }

  /**
   * Takes etcd's list; an endpoint it no longer has is kept for the removal grace (see `removalGraceMs`).
   * Resolves with the revision it was read at.
   */
  private async readAll(client: Etcd3): Promise<string> {
    const res = await client
      .getAll()
      .prefix(this.keyPrefix)
      .options({ deadline: Date.now() + this.requestTimeoutMs })
      .exec();
    if (this.stop.signal.aborted) return res.header.revision;
    const present = new Set<string>();
    for (const kv of res.kvs) present.add(this.put(kv));
    for (const id of [...this.entries.keys()]) if (!present.has(id)) this.vanished(id);
    this.readCount++;
    this.publish([...this.entries.values()]);
    return res.header.revision;
  }

  /** Applies changes from the revision after `revision` until the watch drops or `close`; resolves with how long it lived, ms. */
  private async watchFrom(client: Etcd3, revision: string): Promise<number> {
    const started = Date.now();
    const watcher = client
      .watch()
      .prefix(this.keyPrefix)
      .startRevision((BigInt(revision) + 1n).toString())
      .watcher();
    let active = true;
    await new Promise<void>((resolve) => {
      this.endWatch = resolve;
      watcher.on('data', (res: IWatchResponse) => active && this.apply(res));
      watcher.on('disconnected', () => resolve());
      watcher.on('error', () => resolve()); // e.g. cancelled by etcd after a compaction: read everything again
      if (this.stop.signal.aborted) resolve();
    });
    active = false;
    this.endWatch = undefined;
    await within(
      watcher.cancel().catch(() => undefined),
      CANCEL_WAIT_MS,
    );
    return Date.now() - started;
  }

  private apply(res: IWatchResponse): void {
    for (const event of res.events) {
      if (event.type === 'Put') this.put(event.kv);
      else this.vanished(event.kv.key.toString().slice(this.keyPrefix.length)); // deleted, or expired with its lease
    }
    this.publish([...this.entries.values()]);
  }

  /** Applies one key's value; returns its id. A draining or invalid value removes the endpoint at once. */
  private put(kv: IKeyValue): string {
    const id = kv.key.toString().slice(this.keyPrefix.length);
    this.cancelRemoval(id);
    const e = this.toEndpoint(kv);
    if (e) this.entries.set(id, e);
    else this.entries.delete(id);
    return id;
  }

  /** The key is gone without a draining mark: remove the endpoint after the grace, unless the key returns. */
  private vanished(id: string): void {
    if (!this.entries.has(id) || this.removals.has(id)) return;
    if (this.removalGraceMs === 0) return void this.entries.delete(id);
    const timer = setTimeout(() => {
      this.removals.delete(id);
      if (this.entries.delete(id)) this.publish([...this.entries.values()]);
    }, clampDelay(this.removalGraceMs));
    this.removals.set(id, unrefTimer(timer));
  }

  private cancelRemoval(id: string): void {
    const timer = this.removals.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.removals.delete(id);
  }

  private toEndpoint(kv: IKeyValue): Endpoint | undefined {
    const id = kv.key.toString().slice(this.keyPrefix.length);
    const value = decodeEtcdInstance(kv.value.toString());
    if (!value || value.draining || id.length === 0) return undefined;
    const weight = this.options.loadAwareWeights ? loadAwareWeight(value.weight, value.load) : value.weight;
    try {
      return makeEndpoint({ id, host: value.host, port: value.port, weight, metadata: value.metadata });
    } catch {
      return undefined; // a weight that load made zero
    }
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (the promise itself is left to settle unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('closed'));
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('closed'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}
