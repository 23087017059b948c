import { RpcClient } from '../client/rpc-client';
import type { TlsClientOptions } from '../transport/tls-options';
import { clampDelay, unrefTimer } from '../util/timers';
import { parseRegistryAddress, type RegistryAddress } from './registry-address';
import type { LoadReport, Registrar, Registration } from './registrar';
import type { RegistrationDto } from './registry-service';

export const DEFAULT_REGISTRY_TTL_MS = 10_000;

export interface RegistryRegistrarOptions {
  registry: RegistryAddress;
  /** An entry not renewed within this time expires. Default 10 s. */
  ttlMs?: number;
  /** How often to renew, ms. Default a third of the TTL, so two renewals may fail before the entry expires. */
  renewIntervalMs?: number;
  /** TLS to a registry started with `tls` (see docs/SECURITY.md). Default plain TCP. */
  tls?: TlsClientOptions;
}

/** Registers a server with the built-in registry and renews it (a heartbeat that also carries its load). */
export class RegistryRegistrar implements Registrar {
  private readonly client: RpcClient;
  private readonly ttlMs: number;
  private readonly renewIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private entry: RegistrationDto | undefined;
  private load: (() => LoadReport) | undefined;
  private stopped = false;
  private renewing: Promise<void> | undefined;
  /** Renewals that failed in a row (the registry is unreachable); 0 when the last one went through. */
  failedRenewals = 0;

  constructor(options: RegistryRegistrarOptions) {
    const { host, port } = parseRegistryAddress(options.registry);
    this.ttlMs = options.ttlMs ?? DEFAULT_REGISTRY_TTL_MS;
    this.renewIntervalMs = options.renewIntervalMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
    this.client = new RpcClient({ host, port, defaultTimeoutMs: Math.max(500, this.renewIntervalMs), connectTimeoutMs: Math.max(200, Math.min(2000, this.renewIntervalMs)), tls: options.tls });
    this.client.on('error', () => undefined);
  }

  /** Rejects when the first registration fails; later renewals retry by themselves. */
  async register(registration: Registration, load?: () => LoadReport): Promise<void> {
    this.stopped = false;
    this.load = load;
    this.entry = {
      service: registration.service,
      id: registration.id ?? `${registration.host}:${registration.port}`,
      host: registration.host,
      port: registration.port,
      weight: registration.weight ?? 1,
      metadata: { ...registration.metadata },
      ttlMs: this.ttlMs,
    };
    await this.renew();
    this.schedule();
  }

  async deregister(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.renewing?.catch(() => undefined); // a renewal landing after the deregistration would revive the entry
    const entry = this.entry;
    if (entry) await this.client.call('MyRpcRegistry', 'deregister', [entry.service, entry.id], { timeoutMs: 2000 }).catch(() => undefined);
    await this.client.close();
  }

  private async renew(): Promise<void> {
    const entry = this.entry as RegistrationDto;
    const body: RegistrationDto = this.load ? { ...entry, load: this.load() } : entry;
    await this.client.call('MyRpcRegistry', 'register', [body], { timeoutMs: Math.max(500, this.renewIntervalMs) });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = unrefTimer(setTimeout(() => {
      this.renewing = this.renew().then(
        () => void (this.failedRenewals = 0),
        () => void this.failedRenewals++,
      );
      void this.renewing.finally(() => this.schedule());
    }, clampDelay(this.renewIntervalMs)));
  }
}
