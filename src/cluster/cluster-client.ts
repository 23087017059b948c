import { EventEmitter } from 'eventemitter3';
import type { Balancer, BalancerOptions, PickRequest } from '../balancer/balancer';
import { balancers } from '../balancer/balancers';
import type { ConsistentHashOptions } from '../balancer/consistent-hash-balancer';
import type { Endpoint, EndpointInit, LoadInfo } from '../balancer/endpoint';
import { extractShardKey } from '../balancer/shard-key';
import { callDeadline, type CallOptions } from '../client/call-options';
import { createProxy, type Invoker, type ServiceProxy } from '../client/proxy';
import { DEFAULT_CALL_TIMEOUT_MS, type RpcClient, type RpcClientOptions } from '../client/rpc-client';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { MethodDefinition, ServiceDefinition } from '../metadata/service-definition';
import { pinnedBidi, pinnedStream, pinnedUpload } from '../stream/cluster-stream';
import { clusterStreamCall } from '../stream/stream-interceptors';
import { broadcastProxy, runBroadcast, type BroadcastMode, type BroadcastProxy, type SettledBroadcastProxy } from './broadcast';
import type { CircuitBreakerOptions } from './circuit-breaker';
import type { OutlierDetectionOptions } from './outlier-detector';
import { StaticEndpointSource, type EndpointSource } from './endpoint-source';
import { EndpointState, neverSent, type CallContinuation, type EndpointCallSink } from './endpoint-state';
import { RetryBudget, type RetryBudgetOptions } from './retry-budget';
import { checkInterceptors, compose, type ClientInterceptor, type ClientNext } from '../interceptors/interceptor';

export type FailMode = 'failfast' | 'failover';
export type ShardFailover = 'next' | 'fail';

/** Default most share of endpoints that soft failures and outlier detection may eject at once, percent. */
export const DEFAULT_MAX_EJECTION_PERCENT = 50;
export const DEFAULT_MAX_ATTEMPTS = 3;

export interface ClusterClientOptions {
  /** A static list or a live source (a registry). */
  endpoints: EndpointSource | readonly (Endpoint | EndpointInit)[];
  /** For methods without `@ShardKey`: a name (`random`, `round-robin`, `weighted-round-robin`, `least-loaded`, `consistent-hash`, `hash-modulo`) or your own. Default `round-robin`. */
  balancer?: string | Balancer;
  /** For methods with `@ShardKey`. Default a `consistent-hash` ring. */
  shardBalancer?: string | Balancer;
  /** Options given to balancers made by name (virtual nodes, bounded-load factor, randomness). */
  balancerOptions?: Omit<BalancerOptions & ConsistentHashOptions, 'load'>;
  /** `failover` (default) tries another endpoint when that is safe; `failfast` never retries. */
  failMode?: FailMode;
  /** Most endpoints one call may try after it reached a server (or may have), in failover. Default 3. */
  maxAttempts?: number;
  retryBudget?: RetryBudgetOptions;
  circuitBreaker?: CircuitBreakerOptions;
  /** Most share of the endpoints, percent, that soft failures and outlier detection may eject at once. Default 50. */
  maxEjectionPercent?: number;
  /** Failure-rate ejection on answered codes. Off when undefined. */
  outlierDetection?: OutlierDetectionOptions;
  /** Options for each endpoint's connection (codec, timeouts, defaultTimeoutMs, tls, metadata, per-attempt interceptors). */
  client?: Partial<Omit<RpcClientOptions, 'host' | 'port'>>;
  /**
   * How long a call waits for an endpoint's connection to open before it moves on to another endpoint, ms
   * (nothing was sent; the endpoint's circuit opens and the connection attempt goes on in the background).
   * Default 500.
   */
  connectWaitMs?: number;
  /**
   * Interceptors around each call through `proxy()`, outside balancing and retries (they see one call, however
   * many endpoints it tries), the first outermost. Interceptors in `client.interceptors` run once per attempt.
   */
  interceptors?: readonly ClientInterceptor[];
}

export interface ClusterEvents {
  /** The set of endpoints offered to balancers changed (in panic mode: every endpoint). */
  healthy: (endpointIds: string[]) => void;
}

/**
 * A client over many endpoints with the same typed proxy as `RpcClient`. One multiplexed connection per
 * endpoint (opened lazily); health reacts to transport facts only, with background probes and backoff;
 * balancers see only healthy endpoints, or all of them when none is healthy (panic mode); `@ShardKey`
 * methods route by consistent hash of the key.
 */
export class ClusterClient extends EventEmitter<ClusterEvents> implements Invoker {
  private readonly source: EndpointSource;
  private readonly states = new Map<string, EndpointState>();
  private readonly balancer: Balancer;
  private readonly shardBalancer: Balancer;
  /** The ring over every listed endpoint, healthy or not: routes `shardFailover: 'fail'` calls to the key's owner. */
  private readonly ownerBalancer: Balancer;
  private readonly budget: RetryBudget;
  private readonly unsubscribe: () => void;
  private readonly load: LoadInfo;
  private readonly defaultTimeoutMs: number;
  private readonly maxEjectionPercent: number;
  private healthyIds = '';
  private inPanic = false;
  private closed = false;
  private readonly chain: ClientNext | undefined;

  constructor(private readonly options: ClusterClientOptions) {
    super();
    this.maxEjectionPercent = options.maxEjectionPercent ?? DEFAULT_MAX_EJECTION_PERCENT;
    if (!(this.maxEjectionPercent >= 0 && this.maxEjectionPercent <= 100))
      throw new RangeError('maxEjectionPercent must be between 0 and 100');
    if (options.connectWaitMs !== undefined && !(options.connectWaitMs > 0)) throw new RangeError('connectWaitMs must be > 0');
    if (options.maxAttempts !== undefined && !(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1))
      throw new RangeError('maxAttempts must be an integer >= 1');
    this.source = isSource(options.endpoints) ? options.endpoints : new StaticEndpointSource(options.endpoints);
    this.load = {
      inFlight: (e) => this.states.get(e.id)?.inFlight ?? 0,
      latencyMs: (e) => this.states.get(e.id)?.latencyMs ?? 0,
    };
    const made = { ...options.balancerOptions, load: this.load };
    this.balancer = typeof options.balancer === 'object' ? options.balancer : balancers.create(options.balancer ?? 'round-robin', made);
    const shardName = typeof options.shardBalancer === 'string' ? options.shardBalancer : 'consistent-hash';
    this.shardBalancer = typeof options.shardBalancer === 'object' ? options.shardBalancer : balancers.create(shardName, made);
    this.ownerBalancer = balancers.create(shardName, made);
    this.budget = new RetryBudget(options.retryBudget);
    this.defaultTimeoutMs = options.client?.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.unsubscribe = this.source.subscribe((list) => this.setEndpoints(list));
    this.setEndpoints(this.source.endpoints());
    if (checkInterceptors(options.interceptors, 'interceptors').length > 0) {
      this.chain = compose(options.interceptors as readonly ClientInterceptor[], (c) => {
        const callOptions = { deadline: c.deadline, signal: c.signal, metadata: c.metadata };
        const m = c.definition as MethodDefinition;
        if (c.kind === 'unary') return this.route(m, c.args, callOptions);
        if (c.kind === 'server') return Promise.resolve(this.pinned(m, c.args, callOptions));
        if (c.kind === 'client') return pinnedUpload(this.targetFor(m, c.args), m.service, m.name, c.args, callOptions);
        return Promise.resolve(pinnedBidi(this.targetFor(m, c.args), m.service, m.name, c.args, callOptions));
      });
    }
  }

  /** A typed proxy; calls are balanced (or routed by shard key) over the cluster. */
  proxy<T>(service: abstract new (...args: never[]) => T, options?: CallOptions): ServiceProxy<T> {
    return createProxy<T>(this, service, options);
  }

  /** Calls every endpoint; the first error cancels the rest and rejects. Resolves with `{ endpoint, value }` per endpoint. */
  broadcast<T>(service: abstract new (...args: never[]) => T, options?: CallOptions): BroadcastProxy<T> {
    return broadcastProxy(this.broadcaster('first-error'), service, options) as BroadcastProxy<T>;
  }

  /** Calls every endpoint and collects each one's result or error. */
  broadcastSettled<T>(service: abstract new (...args: never[]) => T, options?: CallOptions): SettledBroadcastProxy<T> {
    return broadcastProxy(this.broadcaster('settled'), service, options) as SettledBroadcastProxy<T>;
  }

  /** The endpoint a shard key maps to now (for tools, tests and the demo). */
  endpointFor(def: ServiceDefinition, method: string, args: unknown[]): Endpoint | undefined {
    const m = this.method(def, method);
    const shardKey = m.shardKey ? extractShardKey(m, args) : undefined;
    return this.balancerFor(m, shardKey).pick({ service: def.name, method, shardKey });
  }

  /** Ids of the endpoints balancers may pick now (in panic mode, every endpoint). */
  healthyEndpoints(): string[] {
    const states = [...this.states.values()];
    return (this.inPanic ? states : states.filter((s) => s.available)).map((s) => s.endpoint.id);
  }

  /** True while no endpoint is healthy and calls go to all of them rather than fail fast. */
  get panic(): boolean {
    return this.inPanic;
  }

  /** Tokens left in the retry budget. */
  get retryTokens(): number {
    return this.budget.available;
  }

  /** Per-endpoint figures: calls in flight, EWMA latency, breaker state, streams open on its connection. */
  stats(): { id: string; inFlight: number; latencyMs: number; breaker: string; streams: number }[] {
    return [...this.states.values()].map((s) => ({
      id: s.endpoint.id,
      inFlight: s.inFlight,
      latencyMs: s.latencyMs,
      breaker: s.breaker.current,
      streams: s.client.streamCount,
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    await Promise.all([...this.states.values()].map((s) => (s.breaker.dispose(), s.client.close())));
    this.states.clear();
  }

  invoke(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown> {
    try {
      const m = this.method(def, method);
      const nowMs = Date.now();
      const deadline = callDeadline(options, this.defaultTimeoutMs, nowMs);
      if (this.chain === undefined) return this.route(m, args, { ...options, deadline }, nowMs);
      return this.chain({
        service: m.service,
        method: m.name,
        definition: m,
        args,
        metadata: { ...options?.metadata },
        deadline,
        signal: options?.signal,
        kind: 'unary',
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A server stream, pinned to the endpoint picked as it opens (balancer or shard key); see src/stream/cluster-stream.ts. */
  streamMethod(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): AsyncIterable<unknown> {
    if (this.chain === undefined) return this.pinned(this.method(def, method), args, options);
    return clusterStreamCall(this.chain, def, this.method(def, method), args, options, this.defaultTimeoutMs);
  }

  /** Picks the stream's endpoint now (balancer or shard key) and pins the stream to it. */
  private pinned(m: MethodDefinition, args: unknown[], options: CallOptions | undefined): AsyncIterable<unknown> {
    return pinnedStream(this.targetFor(m, args), m.service, m.name, args, options);
  }

  /** The endpoint a stream is pinned to: the balancer's pick, or the shard key's owner; undefined when none. */
  private targetFor(m: MethodDefinition, args: unknown[]): { id: string; client: RpcClient } | undefined {
    const shardKey = m.shardKey ? extractShardKey(m, args) : undefined;
    const endpoint = this.closed ? undefined : this.balancerFor(m, shardKey).pick({ service: m.service, method: m.name, shardKey });
    const state = endpoint && this.states.get(endpoint.id);
    return state ? { id: state.endpoint.id, client: state.client } : undefined;
  }

  /** A client stream, pinned to one endpoint like a server stream (never failed over). */
  clientStreamMethod(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown> {
    if (this.chain !== undefined) return this.clientStreamCall(this.chain, def, method, args, options);
    let target;
    try {
      target = this.streamTarget(def, method, args);
    } catch (err) {
      return Promise.reject(err as Error); // a missing shard key: a rejection, as for a unary call
    }
    return pinnedUpload(target, def.name, method, args, options);
  }

  /** A bidi stream, pinned to one endpoint like a server stream (never failed over). */
  bidiStreamMethod(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): AsyncIterable<unknown> {
    if (this.chain !== undefined) return clusterStreamCall(this.chain, def, this.method(def, method), args, options, this.defaultTimeoutMs);
    return pinnedBidi(this.streamTarget(def, method, args), def.name, method, args, options);
  }

  /** A client stream through the cluster's interceptors, once, outside endpoint picking. */
  private clientStreamCall(
    chain: ClientNext,
    def: ServiceDefinition,
    method: string,
    args: unknown[],
    options: CallOptions | undefined,
  ): Promise<unknown> {
    try {
      const m = this.method(def, method);
      const deadline = callDeadline(options, this.defaultTimeoutMs);
      const metadata = { ...options?.metadata };
      return chain({
        service: m.service,
        method: m.name,
        definition: m,
        args,
        metadata,
        deadline,
        signal: options?.signal,
        kind: 'client',
      });
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private streamTarget(def: ServiceDefinition, method: string, args: unknown[]): { id: string; client: RpcClient } | undefined {
    const endpoint = this.closed ? undefined : this.endpointFor(def, method, args);
    const state = endpoint && this.states.get(endpoint.id);
    return state ? { id: state.endpoint.id, client: state.client } : undefined;
  }

  /** Balances (or routes by shard key) and retries; `options.deadline` is set. */
  private route(m: MethodDefinition, args: unknown[], options: CallOptions, nowMs?: number): Promise<unknown> {
    const shardKey = m.shardKey ? extractShardKey(m, args) : undefined;
    if (shardKey !== undefined && shardFailoverOf(m) === 'fail') return this.callOwner(m, args, options, shardKey);
    return this.attempt(m, args, options, shardKey, nowMs);
  }

  /**
   * Failover: after a failure that reached a server (or may have), up to `maxAttempts` endpoints; a failure
   * that never left this client (refused connection, an endpoint just gone) moves on without counting, at
   * most once per endpoint, and spends no retry token. The first try runs without an async frame: most calls
   * succeed at once, and the retries (in {@link retry}) start from its failure.
   */
  private attempt(
    m: MethodDefinition,
    args: unknown[],
    options: CallOptions,
    shardKey: string | undefined,
    nowMs?: number,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(clusterClosed());
    const request = { service: m.service, method: m.name, shardKey };
    const balancer = this.balancerFor(m, shardKey);
    const endpoint = balancer.pick(request, undefined);
    const state = endpoint && this.states.get(endpoint.id);
    if (!state) return Promise.reject(noEndpoint(m, 0));
    return new Promise((resolve, reject) => {
      const first = new FirstTry(this.tries, state, m, args, options, request, balancer, resolve, reject);
      if (state.sendInto(first, m.service, m.name, args, options, nowMs ?? Date.now())) return;
      // Not connected yet (or the endpoint's client has interceptors of its own): through a promise.
      state.call(m.service, m.name, args, options, first).then(resolve, reject);
    });
  }

  /** What a {@link FirstTry} calls back: one object per client, not closures per call. */
  private readonly tries: FirstTryOwner = {
    succeeded: () => this.budget.onSuccess(),
    retry: (first, from) => this.retry(first, from),
  };

  /** After the first try `from` failed with `first`: the rest of the failover loop. */
  private async retry(first: RpcError, from: FirstTry): Promise<unknown> {
    const { m, args, options, request, balancer } = from;
    const maxAttempts = this.options.failMode === 'failfast' ? 1 : (this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const tried = new Set<string>();
    let counted = 0;
    let e = first;
    let id = from.state.endpoint.id;
    for (;;) {
      const transparent = neverSent(e);
      if (RpcError.is(e) && e.retryable && !transparent) this.budget.onFailure(); // only retryable failures a server saw
      if (!this.mayRetry(e, m, options, transparent)) throw e;
      tried.add(id);
      if (!transparent) counted++;
      if (counted >= maxAttempts) throw e;
      if (this.closed) throw clusterClosed();
      const endpoint = balancer.pick(request, tried);
      const state = endpoint && this.states.get(endpoint.id);
      if (!state) throw e;
      try {
        const value = await state.call(m.service, m.name, args, options);
        this.budget.onSuccess();
        return value;
      } catch (err) {
        e = err as RpcError;
        id = state.endpoint.id;
      }
    }
  }

  /** Owner or fail: the key's owner on the ring of every listed endpoint, and no other. */
  private async callOwner(m: MethodDefinition, args: unknown[], options: CallOptions, shardKey: string): Promise<unknown> {
    if (this.closed) throw clusterClosed();
    const owner = this.ownerBalancer.pick({ service: m.service, method: m.name, shardKey });
    const state = owner && this.states.get(owner.id);
    if (!state) throw noEndpoint(m, 0);
    if (!state.available && !this.inPanic) {
      throw new RpcError(
        RpcCode.UNAVAILABLE,
        `${m.service}.${m.name}: ${owner.id}, the owner of shard key '${shardKey}', is unavailable (shardFailover: 'fail')`,
        { mayHaveRun: false },
      );
    }
    return state.call(m.service, m.name, args, options);
  }

  /** Retry only what is safe: a request that never ran, or any retryable failure of an idempotent method. */
  private mayRetry(err: RpcError, m: MethodDefinition, options: CallOptions, transparent: boolean): boolean {
    if (this.options.failMode === 'failfast' || !RpcError.is(err) || !err.retryable) return false;
    if (err.mayHaveRun && !m.options.idempotent) return false;
    if ((options.deadline as number) <= Date.now() || options.signal?.aborted) return false;
    return transparent || this.budget.canRetry();
  }

  private balancerFor(m: MethodDefinition, shardKey: string | undefined): Balancer {
    if (shardKey === undefined) return this.balancer;
    return shardFailoverOf(m) === 'fail' ? this.ownerBalancer : this.shardBalancer;
  }

  private broadcaster(
    mode: BroadcastMode,
  ): (def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined) => Promise<unknown> {
    return (def, method, args, options) => {
      const targets = [...this.states.values()];
      let deadline: number;
      try {
        deadline = callDeadline(options, this.defaultTimeoutMs);
      } catch (err) {
        return Promise.reject(err as RangeError);
      }
      return runBroadcast(mode, targets, def.name, method, args, { ...options, deadline });
    };
  }

  private method(def: ServiceDefinition, name: string): MethodDefinition {
    const m = def.methods.get(name);
    if (!m) throw new RpcError(RpcCode.UNIMPLEMENTED, `unknown method '${name}' of service '${def.name}'`, { mayHaveRun: false });
    return m;
  }

  private setEndpoints(list: readonly Endpoint[]): void {
    if (this.closed) return;
    const wanted = new Map(list.map((e) => [e.id, e]));
    for (const [id, state] of this.states) {
      const next = wanted.get(id);
      if (!next || next.host !== state.endpoint.host || next.port !== state.endpoint.port) {
        state.retire();
        this.states.delete(id);
      } else if (next !== state.endpoint) {
        state.endpoint = next; // weight or metadata changed: same connection
      }
    }
    const stateOptions = {
      client: this.options.client ?? {},
      breaker: this.options.circuitBreaker ?? {},
      outlierDetection: this.options.outlierDetection,
      connectWaitMs: this.options.connectWaitMs,
    };
    const hooks = {
      onHealthChange: () => this.refresh(),
      mayEject: () => this.mayEject(),
      hasAlternative: (self: EndpointState) => this.hasAlternative(self),
    };
    for (const [id, e] of wanted) {
      if (!this.states.has(id)) this.states.set(id, new EndpointState(e, stateOptions, hooks));
    }
    this.ownerBalancer.update([...this.states.values()].map((s) => s.endpoint));
    this.refresh(true);
  }

  private hasAlternative(self: EndpointState): boolean {
    for (const s of this.states.values()) if (s !== self && s.available) return true;
    return false;
  }

  /** Envoy's max_ejection_percent: at least one endpoint, at most the share, may be soft-ejected at once. */
  private mayEject(): boolean {
    let ejected = 0;
    for (const s of this.states.values()) if (s.breaker.softEjected) ejected++;
    return ejected + 1 <= Math.max(1, Math.floor((this.states.size * this.maxEjectionPercent) / 100));
  }

  /**
   * Gives balancers the healthy endpoints, or every endpoint when none is healthy (panic mode: a cluster that
   * looks all down is more likely a client-side misjudgement than an outage). O(endpoints); balancers
   * rebuild lazily, so this never blocks the loop for long.
   */
  private refresh(force = false): void {
    const all = [...this.states.values()].map((s) => s.endpoint);
    let healthy = [...this.states.values()].filter((s) => s.available).map((s) => s.endpoint);
    this.inPanic = healthy.length === 0 && all.length > 0;
    if (this.inPanic) healthy = all;
    const ids = healthy.map((e) => `${e.id}*${e.weight}`).join(',');
    if (!force && ids === this.healthyIds) return;
    this.healthyIds = ids;
    this.balancer.update(healthy);
    this.shardBalancer.update(healthy);
    this.emit(
      'healthy',
      healthy.map((e) => e.id),
    );
  }
}

function shardFailoverOf(m: MethodDefinition): ShardFailover {
  const policy = m.options.shardFailover ?? (m.options.idempotent ? 'next' : 'fail');
  if (policy !== 'next' && policy !== 'fail')
    throw new RangeError(`${m.service}.${m.name}: shardFailover must be 'next' or 'fail', got ${String(policy)}`);
  return policy;
}

function isSource(x: ClusterClientOptions['endpoints']): x is EndpointSource {
  return typeof (x as EndpointSource).subscribe === 'function';
}

function clusterClosed(): RpcError {
  return new RpcError(RpcCode.UNAVAILABLE, 'cluster client is closed', { mayHaveRun: false });
}

function noEndpoint(m: MethodDefinition, tried: number): RpcError {
  const why = tried > 0 ? `every endpoint tried failed (${tried})` : 'no healthy endpoint';
  return new RpcError(RpcCode.UNAVAILABLE, `${m.service}.${m.name}: ${why}`, { mayHaveRun: false });
}

interface FirstTryOwner {
  /** A call succeeded (the retry budget's credit). */
  succeeded(): void;
  /** The failover loop after the first try `from` failed with `first`. */
  retry(first: RpcError, from: FirstTry): Promise<unknown>;
}

/**
 * A call's first try on its endpoint, carrying what the failover needs: as the connection's sink (the common
 * case), its answer settles the caller's promise with no promise of its own in between; as the continuation of
 * {@link EndpointState.call} when the call cannot go out at once. Either way a failure goes on to the failover loop.
 */
class FirstTry implements EndpointCallSink, CallContinuation {
  started = 0;
  answersAtSend = 0;

  constructor(
    private readonly owner: FirstTryOwner,
    readonly state: EndpointState,
    readonly m: MethodDefinition,
    readonly args: unknown[],
    readonly options: CallOptions,
    readonly request: PickRequest,
    readonly balancer: Balancer,
    private readonly resolveFn: (value: unknown) => void,
    private readonly rejectFn: (err: unknown) => void,
  ) {}

  /**
   * Sent through {@link EndpointState.sendInto}: the answer. Counting it may close the endpoint's circuit and
   * emit `'healthy'`; a listener that throws fails this call (as it would inside a promise callback) instead of
   * throwing into the connection's reading of frames.
   */
  resolve(value: unknown): void {
    try {
      this.state.answered(this.started);
      this.owner.succeeded();
    } catch (err) {
      return this.rejectFn(err);
    }
    this.resolveFn(value);
  }

  /** Sent through {@link EndpointState.sendInto}: the failure, counted (see {@link resolve}), then failed over. */
  reject(err: Error): void {
    try {
      this.state.failed(err, this.answersAtSend);
    } catch (thrown) {
      return this.rejectFn(thrown);
    }
    this.failure(err).then(this.resolveFn, this.rejectFn);
  }

  /** Through {@link EndpointState.call} (counted there). */
  success(value: unknown): unknown {
    this.owner.succeeded();
    return value;
  }

  failure(err: unknown): Promise<unknown> {
    return this.owner.retry(err as RpcError, this);
  }
}
