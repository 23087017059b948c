import { randomUUID } from 'node:crypto';
import { RpcClient, type RpcClientOptions } from '../client/rpc-client';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { Backoff } from '../util/backoff';
import { clampDelay, unrefTimer } from '../util/timers';
import { parseRegistryAddress, type RegistryAddress } from './registry-address';
import type { LoadReport, Registrar, Registration } from './registrar';
import { LEASE_TOKEN_METADATA, REGISTRY_TOKEN_ENV, REGISTRY_TOKEN_METADATA } from './registry-guard';
import type { RegisterAnswer, RegistrationDto } from './registry-service';

export const DEFAULT_REGISTRY_TTL_MS = 10_000;

export interface RegistryRegistrarOptions {
  registry: RegistryAddress;
  /** An entry not renewed within this time expires. Default 10 s. */
  ttlMs?: number;
  /** How often to renew, ms. Default a third of the TTL, so two renewals may fail before the entry expires. */
  renewIntervalMs?: number;
  /** More options for the connection to the registry (timeouts, a codec, transport options such as TLS). */
  client?: Partial<Omit<RpcClientOptions, 'host' | 'port'>>;
  /** The registry's shared secret, if it has one. Default the `MYRPC_REGISTRY_TOKEN` environment variable. */
  token?: string;
  /** After a failed renewal or a lost connection to the registry, the first retry comes after this many ms, doubling up to 250 ms (or `renewIntervalMs`, if shorter). Default 50. */
  minRetryMs?: number;
}

export const DEFAULT_REGISTRY_MIN_RETRY_MS = 50;
/** Longest wait between tries to reach the registry again, ms (or the renewal interval, if shorter). */
const MAX_RETRY_MS = 250;

/**
 * Registers a server with the built-in registry and renews it (a heartbeat that also carries its load).
 * When its connection to the registry drops (a restart) or a renewal fails, it registers again at once and
 * then with backoff from `minRetryMs`, so a restarted registry has every live server back within a few
 * round trips of coming up, not a renewal interval later.
 */
export class RegistryRegistrar implements Registrar {
  private readonly client: RpcClient;
  private readonly ttlMs: number;
  private readonly renewIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private entry: RegistrationDto | undefined;
  private load: (() => LoadReport) | undefined;
  private stopped = false;
  private renewing: Promise<void> | undefined;
  private readonly retry: Backoff;
  /** The lease token the registry gave this entry: renewals and the deregistration present it. */
  /** Made here, so a restarted registry (or an entry left by this server's previous process) can be claimed with it. */
  private leaseToken: string = randomUUID();
  private readonly token: string | undefined;
  /** The registry instance that answered the last renewal; a new one means it restarted. */
  registryEpoch = '';
  /** Times a renewal met a registry instance other than the one before (restarts seen). */
  restartsSeen = 0;
  /** Renewals that failed in a row (the registry is unreachable); 0 when the last one went through. */
  failedRenewals = 0;

  constructor(options: RegistryRegistrarOptions) {
    const { host, port } = parseRegistryAddress(options.registry);
    this.ttlMs = options.ttlMs ?? DEFAULT_REGISTRY_TTL_MS;
    this.renewIntervalMs = options.renewIntervalMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
    this.client = new RpcClient({
      defaultTimeoutMs: Math.max(500, this.renewIntervalMs),
      connectTimeoutMs: Math.max(200, Math.min(2000, this.renewIntervalMs)),
      ...options.client,
      host,
      port,
    });
    this.client.on('error', () => undefined);
    this.token = options.token ?? process.env[REGISTRY_TOKEN_ENV];
    this.retry = new Backoff(options.minRetryMs ?? DEFAULT_REGISTRY_MIN_RETRY_MS, Math.min(this.renewIntervalMs, MAX_RETRY_MS));
    this.client.on('disconnect', () => this.schedule(0)); // the registry went away: be back in it as soon as it is
  }

  /**
   * Rejects when the first registration fails (after up to one TTL of retries while the id is held by a
   * silent entry at the same address, up to two TTLs); later renewals retry by themselves.
   */
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
    await this.firstRegistration();
    this.schedule(this.renewIntervalMs);
  }

  /**
   * The first registration. `PERMISSION_DENIED` means the id is held by a live lease, such as this server's
   * previous process that was killed: the registry lets a server at the same address take over once that
   * entry has gone half a TTL without renewal, so it is retried (with backoff) for up to two TTLs.
   */
  private async firstRegistration(): Promise<void> {
    const giveUpAt = Date.now() + 2 * this.ttlMs; // the held entry may have a longer TTL than ours
    for (;;) {
      try {
        await this.renew();
        return this.retry.reset();
      } catch (err) {
        const held = RpcError.is(err) && err.code === RpcCode.PERMISSION_DENIED;
        if (!held || Date.now() >= giveUpAt || this.stopped) throw err;
        await new Promise((resolve) => setTimeout(resolve, clampDelay(this.retry.next())));
      }
    }
  }

  async deregister(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.renewing?.catch(() => undefined); // a renewal landing after the deregistration would revive the entry
    const entry = this.entry;
    if (entry)
      await this.client
        .call('MyRpcRegistry', 'deregister', [entry.service, entry.id], { timeoutMs: 2000, metadata: this.credentials() })
        .catch(() => undefined);
    await this.client.close();
  }

  private async renew(): Promise<void> {
    const entry = this.entry as RegistrationDto;
    const body: RegistrationDto = this.load ? { ...entry, load: this.load() } : entry;
    const options = { timeoutMs: Math.max(500, this.renewIntervalMs), metadata: this.credentials() };
    const answer = (await this.client.call('MyRpcRegistry', 'register', [body], options)) as RegisterAnswer;
    if (this.registryEpoch !== '' && answer.epoch !== this.registryEpoch) this.restartsSeen++;
    this.registryEpoch = answer.epoch;
    this.leaseToken = answer.leaseToken;
  }

  /** The lease token (kept across registry restarts, so the entry stays ours) and the shared secret. */
  private credentials(): Record<string, string> {
    const metadata: Record<string, string> = {};
    metadata[LEASE_TOKEN_METADATA] = this.leaseToken;
    if (this.token !== undefined) metadata[REGISTRY_TOKEN_METADATA] = this.token;
    return metadata;
  }

  /** Renews after `delayMs` (replacing a later renewal already planned); one renewal at a time. */
  private schedule(delayMs: number): void {
    if (this.stopped || this.entry === undefined) return;
    if (this.renewing !== undefined && delayMs > 0) return; // the renewal in flight schedules the next one
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = unrefTimer(setTimeout(() => this.renewNow(), clampDelay(delayMs)));
  }

  private renewNow(): void {
    this.timer = undefined;
    if (this.stopped || this.renewing !== undefined) return;
    let next = this.renewIntervalMs;
    this.renewing = this.renew().then(
      () => {
        this.failedRenewals = 0;
        this.retry.reset();
      },
      () => {
        this.failedRenewals++;
        next = this.retry.next();
      },
    );
    void this.renewing.finally(() => {
      this.renewing = undefined;
      this.schedule(next);
    });
  }
}
