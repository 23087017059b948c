import { makeEndpoint, type Endpoint } from '../balancer/endpoint';
import { RpcClient } from '../client/rpc-client';
import type { TlsClientOptions } from '../transport/tls-options';
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
  /** Longest a long poll waits for a change, ms. Default 30 s. */
  waitMs?: number;
  /** Divide each weight by the server's reported load (see `loadAwareWeight`). Default false. */
  loadAwareWeights?: boolean;
  /** Backoff between failed polls, ms: from `minRetryMs` (100) doubling to `maxRetryMs` (2000). */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** TLS to a registry started with `tls` (see docs/SECURITY.md). Default plain TCP. */
  tls?: TlsClientOptions;
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
  private readonly loop: Promise<void>;

  constructor(private readonly options: RegistryDiscoveryOptions) {
    super();
    const { host, port } = parseRegistryAddress(options.registry);
    this.client = new RpcClient({ host, port, connectTimeoutMs: 2000, tls: options.tls });
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
        const snapshot = (await this.client.call('MyRpcRegistry', 'watch', [this.options.service, this.epoch, this.index, waitMs], { timeoutMs: waitMs + 5000, signal })) as Snapshot;
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

  private apply(snapshot: Snapshot): void {
    this.epoch = snapshot.epoch;
    this.index = snapshot.index;
    this.publish(snapshot.instances.map((i) => this.toEndpoint(i)));
  }

  private toEndpoint(i: InstanceInfo): Endpoint {
    const weight = this.options.loadAwareWeights ? loadAwareWeight(i.weight, i.load) : i.weight;
    return makeEndpoint({ id: i.id, host: i.host, port: i.port, weight, metadata: i.metadata });
  }
}
