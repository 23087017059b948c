import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Max, Min, ValidateNested } from '../util/class-validator-parts';
import { randomUUID } from 'node:crypto';
import { MAX_ENDPOINT_WEIGHT } from '../balancer/endpoint';
import { Ctx } from '../decorators/ctx';
import { Method } from '../decorators/method';
import { Service } from '../decorators/service';
import type { CallContext } from '../server/call-context';
import { clampDelay, unrefTimer } from '../util/timers';
import { loadAwareWeight } from './load-weight';
import {
  checkMetadata,
  checkRegistryToken,
  DEFAULT_MAX_ENTRIES_PER_SERVICE,
  DEFAULT_MAX_SERVICES,
  LEASE_TOKEN_METADATA,
  leaseHeld,
  tooMany,
} from './registry-guard';

export class LoadReportDto {
  @IsInt()
  @Min(0)
  inFlight!: number;

  @IsNumber()
  @Min(0)
  eventLoopDelayMs!: number;
}

/** One registration or renewal, as servers send it. */
export class RegistrationDto {
  @IsString()
  @Length(1, 200)
  service!: string;

  @IsString()
  @Length(1, 200)
  id!: string;

  @IsString()
  @Length(1, 255)
  host!: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  port!: number;

  @IsNumber()
  @Min(0.001)
  @Max(MAX_ENDPOINT_WEIGHT)
  weight!: number;

  @IsObject()
  metadata!: Record<string, string>;

  @IsInt()
  @Min(100)
  @Max(3_600_000)
  ttlMs!: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => LoadReportDto)
  load?: LoadReportDto;
}

export interface InstanceInfo {
  id: string;
  host: string;
  port: number;
  weight: number;
  metadata: Record<string, string>;
  load?: { inFlight: number; eventLoopDelayMs: number };
}

/** A service's instances at one revision. `epoch` changes when the registry restarts. */
export interface Snapshot {
  epoch: string;
  index: number;
  instances: InstanceInfo[];
  /**
   * False while the registry has been up for less than its warm-up (a full TTL): servers that were alive
   * before it started may not have re-registered yet, so the list may be missing live servers. Clients
   * merge such a list with the one they had rather than replace it.
   */
  complete: boolean;
  /** While not complete: ids deregistered gracefully since the registry started (their servers are gone). */
  removed?: string[];
}

export interface RegistryServiceOptions {
  /** Shared secret every register and deregister must carry (call metadata `myrpc-registry-token`). Default none. */
  token?: string;
  /** Most entries one service may hold; one more is refused with `RESOURCE_EXHAUSTED`. Default 1000. */
  maxEntriesPerService?: number;
  /** Most services; a registration of one more is refused with `RESOURCE_EXHAUSTED`. Default 1000. */
  maxServices?: number;
  /**
   * How long after starting the registry's lists count as incomplete, ms; raised to the longest TTL any
   * server registers with meanwhile. Default 10 s (the default TTL).
   */
  warmupMs?: number;
  now?: () => number;
}

interface Entry {
  info: InstanceInfo;
  expiresAt: number;
  /** Renewals and the deregistration must present it (call metadata `myrpc-lease-token`). */
  leaseToken: string;
  renewedAt: number;
  ttlMs: number;
}

/** What `register` answers: the registry instance, the service's revision, and the entry's lease token. */
export interface RegisterAnswer {
  epoch: string;
  index: number;
  leaseToken: string;
}

/** Default warm-up of a registry that has just started, ms: the default TTL. */
export const DEFAULT_REGISTRY_WARMUP_MS = 10_000;

/** Load changes smaller than this share of the load-aware weight do not wake watchers. */
const LOAD_CHANGE_TO_NOTIFY = 0.1;

/**
 * The built-in registry, itself a MyRPC service. State lives in memory: after a restart it is rebuilt from
 * renewals (servers register again as soon as their connection to it drops and it is back). Until it has
 * been up for a full TTL its snapshots say `complete: false`, so clients merge rather than replace.
 */
@Service('MyRpcRegistry')
export class RegistryService {
  readonly epoch = randomUUID();
  private readonly startedAt: number;
  private warmupMs: number;
  private warm = false;
  private readonly now: () => number;
  /** Per service: ids deregistered during the warm-up (dropped once it ends). */
  private readonly departed = new Map<string, Set<string>>();
  private readonly services = new Map<string, Map<string, Entry>>();
  private readonly indexes = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private revision = 0;
  private readonly token: string | undefined;
  private readonly maxEntriesPerService: number;
  private readonly maxServices: number;

  constructor(options: RegistryServiceOptions = {}) {
    this.now = options.now ?? Date.now;
    this.token = options.token;
    this.maxEntriesPerService = options.maxEntriesPerService ?? DEFAULT_MAX_ENTRIES_PER_SERVICE;
    this.maxServices = options.maxServices ?? DEFAULT_MAX_SERVICES;
    if (!(this.maxEntriesPerService >= 1)) throw new RangeError('maxEntriesPerService must be >= 1');
    if (!(this.maxServices >= 1)) throw new RangeError('maxServices must be >= 1');
    this.startedAt = this.now();
    this.warmupMs = options.warmupMs ?? DEFAULT_REGISTRY_WARMUP_MS;
    if (!(this.warmupMs >= 0)) throw new RangeError('warmupMs must be >= 0');
    this.warm = this.warmupMs === 0;
  }

  /** Whether the registry has been up for its whole warm-up, so its lists are complete. */
  get complete(): boolean {
    return this.warm;
  }

  /**
   * Registers or renews (an upsert). An id held by a live entry is renewed only by a call carrying that
   * entry's lease token; a new entry takes the token the call carries, or a fresh one. Answers the token.
   */
  @Method({ idempotent: true })
  register(registration: RegistrationDto, @Ctx() ctx: CallContext): RegisterAnswer {
    const { service, id, host, port, weight, metadata, ttlMs, load } = registration;
    checkRegistryToken(this.token, ctx);
    checkMetadata(metadata);
    const leaseToken = this.leaseFor(registration, ctx.metadata[LEASE_TOKEN_METADATA]);
    if (!this.warm) {
      this.warmupMs = Math.max(this.warmupMs, ttlMs);
      this.departed.get(service)?.delete(id);
    }
    const entries = this.entriesOf(service);
    const previous = entries.get(id);
    const info: InstanceInfo = {
      id,
      host,
      port,
      weight,
      metadata: { ...metadata },
      ...(load ? { load: { inFlight: load.inFlight, eventLoopDelayMs: load.eventLoopDelayMs } } : {}),
    };
    const now = this.now();
    entries.set(id, { info, expiresAt: now + ttlMs, leaseToken, renewedAt: now, ttlMs });
    if (!previous || changed(previous.info, info)) this.bump(service);
    return { epoch: this.epoch, index: this.indexOf(service), leaseToken };
  }

  @Method({ idempotent: true })
  deregister(service: string, id: string, @Ctx() ctx: CallContext): boolean {
    checkRegistryToken(this.token, ctx);
    const live = this.liveEntry(service, id);
    if (live && live.leaseToken !== ctx.metadata[LEASE_TOKEN_METADATA]) throw leaseHeld(service, id);
    const removed = this.services.get(service)?.delete(id) ?? false;
    if (!this.warm) {
      // A server this registry never saw may still be on clients' lists from before the restart: say it left.
      let set = this.departed.get(service);
      if (!set) this.departed.set(service, (set = new Set()));
      set.add(id);
      this.bump(service);
    } else if (removed) this.bump(service);
    return removed;
  }

  /**
   * Long poll: answers at once when the caller's `epoch`/`index` is behind, otherwise when the service
   * changes or after `waitMs`, whichever comes first.
   */
  @Method({ idempotent: true, timeoutMs: 10 * 60_000 })
  watch(service: string, epoch: string, index: number, waitMs: number, @Ctx() ctx: CallContext): Promise<Snapshot> | Snapshot {
    if (epoch !== this.epoch || index !== this.indexOf(service)) return this.snapshot(service);
    return new Promise((resolve) => {
      const waiters = this.waitersOf(service);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        ctx.signal.removeEventListener('abort', done);
        resolve(this.snapshot(service));
      };
      const timer = unrefTimer(setTimeout(done, clampDelay(Math.min(waitMs, ctx.deadline - this.now() - 50))));
      waiters.add(done);
      ctx.signal.addEventListener('abort', done, { once: true });
    });
  }

  @Method()
  list(service: string): Snapshot {
    return this.snapshot(service);
  }

  @Method()
  serviceNames(): string[] {
    return [...this.services.entries()]
      .filter(([, e]) => e.size > 0)
      .map(([name]) => name)
      .sort();
  }

  /** Drops entries whose TTL has passed and ends the warm-up; the registry server calls it on a timer. */
  sweep(now = this.now()): void {
    if (!this.warm && now - this.startedAt >= this.warmupMs) {
      this.warm = true;
      this.departed.clear();
      for (const service of new Set([...this.services.keys(), ...this.waiters.keys()])) this.bump(service); // lists are complete now: tell watchers
    }
    for (const [service, entries] of this.services) {
      let removed = false;
      for (const [id, entry] of entries) {
        if (entry.expiresAt <= now) {
          entries.delete(id);
          removed = true;
        }
      }
      if (removed) this.bump(service);
    }
  }

  /** Wakes every watcher (at shutdown), so their calls answer instead of being cut. */
  wakeAll(): void {
    for (const service of this.waiters.keys()) this.wake(service);
  }

  /**
   * The lease token a registration gets, or a refusal: a live entry only by its token, except that a server
   * at the entry's very address may take over an entry its owner has not renewed for half its TTL (owners
   * renew every third): a restarted server comes back without waiting for its old entry to expire, and
   * without a gap. Limits apply to new entries.
   */
  private leaseFor(registration: RegistrationDto, presented: string | undefined): string {
    const { service, id, host, port } = registration;
    const live = this.liveEntry(service, id);
    if (live && live.leaseToken !== presented) {
      const silentMs = this.now() - live.renewedAt;
      const sameAddress = live.info.host === host && live.info.port === port;
      if (!sameAddress || silentMs <= live.ttlMs / 2 || presented === undefined) throw leaseHeld(service, id);
    } else if (live) {
      return live.leaseToken;
    }
    const entries = this.services.get(service);
    if (!entries && this.services.size >= this.maxServices) throw tooMany('services', this.maxServices);
    if (entries && !entries.has(id) && entries.size >= this.maxEntriesPerService)
      throw tooMany(`entries per service`, this.maxEntriesPerService);
    return presented !== undefined && presented.length > 0 && presented.length <= 200 ? presented : randomUUID();
  }

  private liveEntry(service: string, id: string): Entry | undefined {
    const entry = this.services.get(service)?.get(id);
    return entry && entry.expiresAt > this.now() ? entry : undefined;
  }

  private snapshot(service: string): Snapshot {
    const instances = [...(this.services.get(service)?.values() ?? [])]
      .map((e) => e.info)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const snapshot: Snapshot = { epoch: this.epoch, index: this.indexOf(service), instances, complete: this.warm };
    if (!this.warm) snapshot.removed = [...(this.departed.get(service) ?? [])].sort();
    return snapshot;
  }

  private bump(service: string): void {
    this.indexes.set(service, ++this.revision);
    this.wake(service);
  }

  private wake(service: string): void {
    for (const w of [...(this.waiters.get(service) ?? [])]) w();
  }

  private indexOf(service: string): number {
    return this.indexes.get(service) ?? 0;
  }

  private entriesOf(service: string): Map<string, Entry> {
    let entries = this.services.get(service);
    if (!entries) this.services.set(service, (entries = new Map()));
    return entries;
  }

  private waitersOf(service: string): Set<() => void> {
    let set = this.waiters.get(service);
    if (!set) this.waiters.set(service, (set = new Set()));
    return set;
  }
}

function changed(a: InstanceInfo, b: InstanceInfo): boolean {
  if (a.host !== b.host || a.port !== b.port || a.weight !== b.weight || JSON.stringify(a.metadata) !== JSON.stringify(b.metadata))
    return true;
  const wa = loadAwareWeight(a.weight, a.load);
  const wb = loadAwareWeight(b.weight, b.load);
  return Math.abs(wa - wb) > LOAD_CHANGE_TO_NOTIFY * wa;
}
