import type { AddressInfo } from 'node:net';
import { RpcServer, type RpcServerOptions } from '../server/rpc-server';
import { unrefTimer } from '../util/timers';
import { isLoopback, REGISTRY_TOKEN_ENV } from './registry-guard';
import { RegistryService } from './registry-service';

export const DEFAULT_REGISTRY_PORT = 7070;
const SWEEP_INTERVAL_MS = 200;

export interface RegistryServerOptions extends RpcServerOptions {
  /** How often expired entries are dropped, ms. Default 200. */
  sweepIntervalMs?: number;
  /** Shared secret for register/deregister (see `RegistryServiceOptions.token`). */
  token?: string;
  /** Listen on a non-loopback address without a token anyway. Default false: `listen` refuses. */
  insecure?: boolean;
  maxEntriesPerService?: number;
  maxServices?: number;
  /** How long after start lists count as incomplete (see `Snapshot.complete`), ms. Default 10 s, raised to the longest TTL registered meanwhile. */
  warmupMs?: number;
}

/** The built-in registry: a MyRPC server hosting {@link RegistryService}, plus the timer that expires entries. */
export class RegistryServer {
  readonly service: RegistryService;
  readonly server: RpcServer;
  private readonly sweeper: NodeJS.Timeout;
  private readonly guarded: boolean;

  constructor(options: RegistryServerOptions = {}) {
    const { sweepIntervalMs: _sweep, warmupMs, token, insecure, maxEntriesPerService, maxServices, ...serverOptions } = options;
    this.service = new RegistryService({ warmupMs, token, maxEntriesPerService, maxServices });
    this.guarded = token !== undefined || insecure === true;
    this.server = new RpcServer(serverOptions).register(this.service);
    this.server.addShutdownHook(() => this.service.wakeAll());
    this.sweeper = unrefTimer(setInterval(() => this.service.sweep(), options.sweepIntervalMs ?? SWEEP_INTERVAL_MS));
  }

  /** Rejects for a non-loopback `host` unless the registry has a token or `insecure` is set: anyone could register there. */
  listen(port = DEFAULT_REGISTRY_PORT, host = '127.0.0.1'): Promise<AddressInfo> {
    if (!this.guarded && !isLoopback(host)) {
      return Promise.reject(
        new Error(
          `the registry would listen on ${host}, reachable from other machines, without a token: give one (token option, --token-file, ${REGISTRY_TOKEN_ENV}) or set insecure (--insecure)`,
        ),
      );
    }
    return this.server.listen(port, host);
  }

  async close(graceMs = 500): Promise<void> {
    clearInterval(this.sweeper);
    await this.server.close({ graceMs });
  }
}

/** Starts a registry and resolves once it listens. */
export async function startRegistry(
  port = DEFAULT_REGISTRY_PORT,
  host = '127.0.0.1',
  options: RegistryServerOptions = {},
): Promise<{ registry: RegistryServer; port: number }> {
  const registry = new RegistryServer(options);
  const address = await registry.listen(port, host);
  return { registry, port: address.port };
}
