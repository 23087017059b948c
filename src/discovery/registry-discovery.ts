import { MAX_ENDPOINT_WEIGHT, makeEndpoint, type Endpoint } from '../balancer/endpoint';
import { RpcClient, type RpcClientOptions } from '../client/rpc-client';
import type { RpcError } from '../errors/rpc-error';
import { Backoff, sleep } from '../util/backoff';
import { ListDiscovery } from './list-discovery';
import { loadAwareWeight } from './load-weight';
import { parseRegistryAddress, type RegistryAddress } from './registry-address';
import type { InstanceInfo, Snapshot } from './registry-service';

export interface RegistryDiscoveryOptions {
  registry: RegistryAddress;
  /** The service name servers registered under. */
  service: string;
  /** More options for the connection to the registry (timeouts, a codec, transport options such as TLS). */
  client?: Partial<Omit<RpcClientOptions, 'host' | 'port'>>;
  /** Longest a long poll waits for a change, ms. Default 30 s. */
  waitMs?: number;
  /** Divide each weight by the server's reported load (see `loadAwareWeight`). Default false. */
  loadAwareWeights?: boolean;
  /** Backoff between failed polls, ms: from `minRetryMs` (100) doubling to `maxRetryMs` (2000). */
  minRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * Client-side discovery from the built-in registry: a long poll that returns as soon as the service's list
 * changes. While the registry is unreachable it keeps its last list, marked stale, and keeps retrying.
 */
export class RegistryDiscovery extends ListDiscovery {
  private readonly client: RpcClient;
  private readonly controller = new AbortController();
  private epoch = '';
  private index = -1;
  /** What was last published, by id. */
  private known = new Map<string, Endpoint>();
  /** Ids from before a registry restart that the new registry has not confirmed yet; kept while its lists are incomplete. */
  private carried = new Set<string>();
  private readonly loop: Promise<void>;

  constructor(private readonly options: RegistryDiscoveryOptions) {
    super();
    const { host, port } = parseRegistryAddress(options.registry);
    this.client = new RpcClient({ connectTimeoutMs: 2000, ...options.client, host, port });
    this.client.on('error', () => undefined);
    this.loop = this.run();
  }

  protected describe(): string {
    const { host, port } = parseRegistryAddress(this.options.registry);
    return `the registry at ${host}:${port} for '${this.options.service}'`;
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.loop;
    await this.client.close();
  }

  private async run(): Promise<void> {
    const waitMs = this.options.waitMs ?? 30_000;
    const backoff = new Backoff(this.options.minRetryMs ?? 100, this.options.maxRetryMs ?? 2000);
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        const snapshot = (await this.client.call('MyRpcRegistry', 'watch', [this.options.service, this.epoch, this.index, waitMs], {
          timeoutMs: waitMs + 5000,
          signal,
        })) as Snapshot;
        backoff.reset();
        this.setFresh();
        this.apply(snapshot);
      } catch (err) {
        if (signal.aborted) return;
        this.setStale(err as RpcError);
        await sleep(backoff.next(), signal);
      }
    }
  }

  /**
   * A complete snapshot replaces the list. One from a registry still warming up (just restarted) is merged:
   * endpoints from before the restart stay until the new registry lists them, says they deregistered, or
   * has been up for a full TTL, so a restart never drops a live server from the list.
   */
  private apply(snapshot: Snapshot): void {
    if (snapshot.epoch !== this.epoch && this.epoch !== '') this.carried = new Set([...this.carried, ...this.known.keys()]);
    this.epoch = snapshot.epoch;
    this.index = snapshot.index;
    const next = new Map<string, Endpoint>();
    for (const i of snapshot.instances) {
      const e = this.toEndpoint(i);
      if (e) next.set(e.id, e);
    }
    if (snapshot.complete === false) {
      for (const id of snapshot.removed ?? []) this.carried.delete(id);
      for (const id of next.keys()) this.carried.delete(id);
      for (const id of this.carried) {
        const e = this.known.get(id);
        if (e) next.set(id, e);
      }
    } else {
      this.carried.clear();
    }
    this.known = next;
    this.publish([...next.values()]);
  }

  /** Ids kept from before a registry restart, not yet confirmed by the new registry. */
  get carriedOver(): string[] {
    return [...this.carried].sort();
  }

  private toEndpoint(i: InstanceInfo): Endpoint | undefined {
    const weight = this.options.loadAwareWeights ? loadAwareWeight(i.weight, i.load) : i.weight;
    try {
      return makeEndpoint({ id: i.id, host: i.host, port: i.port, weight: Math.min(weight, MAX_ENDPOINT_WEIGHT), metadata: i.metadata });
    } catch {
      return undefined; // a weight that load made zero
    }
  }
}
