import { MAX_ENDPOINT_WEIGHT } from '../balancer/endpoint';
import type { Lease } from 'etcd3';
import { clampDelay, unrefTimer } from '../util/timers';
import { Backoff, sleep } from '../util/backoff';
import { DEFAULT_ETCD_REQUEST_TIMEOUT_MS, EtcdClientHandle, etcdUnavailable, within, type EtcdConnectionOptions } from './etcd-client';
import { DEFAULT_ETCD_PREFIX, encodeEtcdInstance, etcdInstanceKey } from './etcd-key-layout';
import { loadAwareWeight } from './load-weight';
import type { LoadReport, Registrar, Registration } from './registrar';

export const DEFAULT_ETCD_TTL_SECONDS = 10;

/** Load-aware weight changes up to this share of the last written weight are not written (as in the built-in registry). */
const LOAD_CHANGE_TO_WRITE = 0.1;
/** Longest deregister waits to write the draining mark before it revokes the lease anyway, ms. */
const DRAINING_WRITE_MS = 1_000;

export interface EtcdRegistrarOptions extends EtcdConnectionOptions {
  /** Key prefix shared by servers and clients. Default `/myrpc`. */
  prefix?: string;
  /** Lease time-to-live, whole seconds (etcd's minimum is about 2). The key goes this long after the server stops renewing. Default 10. */
  ttlSeconds?: number;
  /** Deadline of each etcd request, ms. Default 5000. */
  requestTimeoutMs?: number;
  /** Backoff between tries to register again after the lease was lost, ms: from `minRetryMs` (200) doubling to `maxRetryMs` (2000). */
  minRetryMs?: number;
  maxRetryMs?: number;
}

/** What the registrar did, for logs and tests. */
export interface EtcdRegistrarStats {
  /** Leases granted and registered under, the first one included. */
  registrations: number;
  /** Leases lost (expired or revoked behind our back, or unreachable etcd past twice their TTL). */
  leasesLost: number;
  /** Load updates written (only when the load-aware weight they give moved by more than 10 %). */
  loadUpdates: number;
  /** Whether the entry is registered under a live lease now. */
  registered: boolean;
}

/**
 * Registers one server in etcd under a lease that etcd3 keeps alive (every TTL/3). Every TTL/3 it also writes
 * the server's load again, when the weight clients derive from it moved by more than 10 %. When the lease is
 * lost (etcd said it expired, or etcd was unreachable for twice the TTL) it grants a new lease and writes the
 * key again, retrying with backoff until etcd answers: an etcd restart, even one that outlives the lease,
 * costs at most a gap, never the registration.
 */
export class EtcdRegistrar implements Registrar {
  private readonly handle: EtcdClientHandle;
  private readonly ttlSeconds: number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: Backoff;
  private registration: Registration | undefined;
  private key = '';
  private load: (() => LoadReport) | undefined;
  private lease: Lease | undefined;
  private writtenWeight = NaN;
  private refreshTimer: NodeJS.Timeout | undefined;
  private stop = new AbortController();
  /** The first registration, while it runs; deregister waits for it. */
  private registering: Promise<Lease> | undefined;
  /** The re-registration loop, while it runs; deregister waits for it. */
  private reregistering: Promise<void> | undefined;
  /** A load update in flight. */
  private updating: Promise<void> | undefined;
  private readonly counts = { registrations: 0, leasesLost: 0, loadUpdates: 0 };

  constructor(private readonly options: EtcdRegistrarOptions) {
    this.handle = new EtcdClientHandle(options);
    this.ttlSeconds = Math.max(1, Math.round(options.ttlSeconds ?? DEFAULT_ETCD_TTL_SECONDS));
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_ETCD_REQUEST_TIMEOUT_MS;
    this.backoff = new Backoff(options.minRetryMs ?? 200, options.maxRetryMs ?? 2_000);
  }

  /** The key this server is registered under (empty before `register`). */
  get etcdKey(): string {
    return this.key;
  }

  get stats(): EtcdRegistrarStats {
    return { ...this.counts, registered: this.lease !== undefined && !this.lease.revoked() };
  }

  /** Resolves once etcd has the key; rejects with `UNAVAILABLE` (and holds nothing) when that first write fails. */
  async register(registration: Registration, load?: () => LoadReport): Promise<void> {
    if (this.registration) throw new Error(`already registered as ${this.key}; deregister first`);
    const weight = registration.weight ?? 1;
    if (!(weight > 0 && weight <= MAX_ENDPOINT_WEIGHT))
      throw new RangeError(`${registration.service}: weight must be a number > 0 and <= ${MAX_ENDPOINT_WEIGHT}, got ${weight}`);
    const id = registration.id ?? `${registration.host}:${registration.port}`;
    this.key = etcdInstanceKey(this.options.prefix ?? DEFAULT_ETCD_PREFIX, registration.service, id);
    this.registration = { ...registration, id };
    this.load = load;
    this.stop = new AbortController();
    this.registering = this.grantAndPut();
    try {
      this.lease = await this.registering;
    } catch (err) {
      this.registration = undefined;
      await this.handle.close();
      throw etcdUnavailable(this.handle.where, `registering ${this.key}`, err);
    } finally {
      this.registering = undefined;
    }
    if (this.stop.signal.aborted) return; // deregister was called meanwhile; it revokes this lease
    this.refreshTimer = unrefTimer(setInterval(() => this.refreshLoad(), clampDelay((this.ttlSeconds * 1000) / 3)));
  }

  /**
   * Marks the key draining, then revokes the lease, so the key goes at once (clients drop it without their
   * removal grace), and stops everything; never throws for an unreachable etcd.
   */
  async deregister(): Promise<void> {
    if (!this.registration) return;
    this.stop.abort();
    await Promise.allSettled([this.registering, this.reregistering, this.updating]);
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    const lease = this.lease;
    this.lease = undefined;
    if (lease && !lease.revoked()) await within(this.markDraining(lease), DRAINING_WRITE_MS);
    this.registration = undefined;
    if (lease)
      await within(
        lease.revoke({ deadline: Date.now() + this.requestTimeoutMs }).catch(() => lease.release()),
        this.requestTimeoutMs + 1000,
      );
    await this.handle.close();
  }

  /**
   * Says "leaving" in the key before the lease is revoked: a delete alone looks the same as a lease that
   * expired during an etcd stall, which discovery waits out; a draining value is removed at once.
   */
  private async markDraining(lease: Lease): Promise<void> {
    const registration = this.registration as Registration;
    const json = encodeEtcdInstance(registration, this.load?.(), true);
    await lease
      .put(this.key)
      .value(json)
      .options({ deadline: Date.now() + DRAINING_WRITE_MS })
      .catch(() => undefined);
  }

  /** A new lease with the key put under it. A lease that fails on the way is released, never left renewing. */
  private async grantAndPut(): Promise<Lease> {
    const client = await this.handle.get();
    const lease = client.lease(this.ttlSeconds, { autoKeepAlive: true, deadline: Date.now() + this.requestTimeoutMs });
    lease.on('lost', () => this.onLost(lease));
    try {
      const value = this.currentValue();
      await lease
        .put(this.key)
        .value(value.json)
        .options({ deadline: Date.now() + this.requestTimeoutMs });
      if (lease.revoked()) throw new Error('the lease was lost while the key was written');
      this.writtenWeight = value.weight;
      this.counts.registrations++;
      return lease;
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  private onLost(lease: Lease): void {
    if (lease !== this.lease || this.stop.signal.aborted) return; // a lease being granted, or one we let go
    this.lease = undefined;
    this.counts.leasesLost++;
    this.reregistering = this.registerAgain().finally(() => (this.reregistering = undefined));
  }

  /** Grants a new lease and writes the key again, with backoff, until it works or `deregister` stops it. */
  private async registerAgain(): Promise<void> {
    this.backoff.reset();
    while (!this.stop.signal.aborted) {
      try {
        this.lease = await this.grantAndPut(); // if deregister is waiting for us, it revokes this one
        return;
      } catch {
        await sleep(this.backoff.next(), this.stop.signal);
      }
    }
  }

  /**
   * Writes the load again when the weight it gives moved by more than a tenth: every put wakes every watcher
   * of the service, so small load changes are not worth one.
   */
  private refreshLoad(): void {
    const lease = this.lease;
    if (!this.load || !lease || lease.revoked() || this.updating) return;
    const value = this.currentValue();
    if (Math.abs(value.weight - this.writtenWeight) <= LOAD_CHANGE_TO_WRITE * this.writtenWeight) return;
    this.updating = lease
      .put(this.key)
      .value(value.json)
      .options({ deadline: Date.now() + this.requestTimeoutMs })
      .then(
        () => {
          if (this.lease === lease) this.writtenWeight = value.weight;
          this.counts.loadUpdates++;
        },
        () => undefined, // the lease's own keep-alive notices an etcd that is gone; the next tick tries again
      )
      .finally(() => (this.updating = undefined));
  }

  private currentValue(): { json: string; weight: number } {
    const registration = this.registration as Registration;
    const load = this.load?.();
    return { json: encodeEtcdInstance(registration, load), weight: loadAwareWeight(registration.weight ?? 1, load) };
  }
}
