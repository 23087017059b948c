import type { AddressInfo } from 'node:net';
import { RpcServer, type RpcServerOptions } from '../server/rpc-server';
import { unrefTimer } from '../util/timers';
import { RegistryService } from './registry-service';

export const DEFAULT_REGISTRY_PORT = 7070;
const SWEEP_INTERVAL_MS = 200;

export interface RegistryServerOptions extends RpcServerOptions {
  /** How often expired entries are dropped, ms. Default 200. */
  sweepIntervalMs?: number;
  /** How long after start lists count as incomplete (see `Snapshot.complete`), ms. Default 10 s, raised to the longest TTL registered meanwhile. */
  warmupMs?: number;
}

/** The built-in registry: a MyRPC server hosting {@link RegistryService}, plus the timer that expires entries. */
export class RegistryServer {
  readonly service: RegistryService;
  readonly server: RpcServer;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: RegistryServerOptions = {}) {
    this.service = new RegistryService({ warmupMs: options.warmupMs });
    const { sweepIntervalMs: _sweep, warmupMs: _warmup, ...serverOptions } = options;
    this.server = new RpcServer(serverOptions).register(this.service);
    this.server.addShutdownHook(() => this.service.wakeAll());
    this.sweeper = unrefTimer(setInterval(() => this.service.sweep(), options.sweepIntervalMs ?? SWEEP_INTERVAL_MS));
  }

  listen(port = DEFAULT_REGISTRY_PORT, host = '127.0.0.1'): Promise<AddressInfo> {
    return this.server.listen(port, host);
  }

  async close(graceMs = 500): Promise<void> {
    clearInterval(this.sweeper);
    await this.server.close({ graceMs });
  }
}

/** Starts a registry and resolves once it listens. */
export async function startRegistry(port = DEFAULT_REGISTRY_PORT, host = '127.0.0.1', options: RegistryServerOptions = {}): Promise<{ registry: RegistryServer; port: number }> {
  const registry = new RegistryServer(options);
  const address = await registry.listen(port, host);
  return { registry, port: address.port };
}
