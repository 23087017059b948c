import { EventEmitter } from 'eventemitter3';
import type { Balancer, BalancerOptions } from '../balancer/balancer';
import { balancers } from '../balancer/balancers';
import type { ConsistentHashOptions } from '../balancer/consistent-hash-balancer';
import type { Endpoint, EndpointInit, LoadInfo } from '../balancer/endpoint';
import { extractShardKey } from '../balancer/shard-key';
import type { CallOptions } from '../client/call-options';
import { createProxy, type Invoker, type ServiceProxy } from '../client/proxy';
import { DEFAULT_CALL_TIMEOUT_MS, type RpcClientOptions } from '../client/rpc-client';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { MethodDefinition, ServiceDefinition } from '../metadata/service-definition';
import { broadcastProxy, runBroadcast, type BroadcastMode, type BroadcastProxy, type SettledBroadcastProxy } from './broadcast';
import type { CircuitBreakerOptions } from './circuit-breaker';
import { StaticEndpointSource, type EndpointSource } from './endpoint-source';
import { EndpointState } from './endpoint-state';
import { RetryBudget, type RetryBudgetOptions } from './retry-budget';
import { checkInterceptors, compose, type ClientInterceptor, type ClientNext } from '../interceptors/interceptor';

export type FailMode = 'failfast' | 'failover';

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
  /** Most endpoints one call may try, in failover. Default 3. */
  maxAttempts?: number;
  retryBudget?: RetryBudgetOptions;
  circuitBreaker?: CircuitBreakerOptions;
  /** Options for each endpoint's connection (codec, timeouts, defaultTimeoutMs, tls, metadata, per-attempt interceptors). */
  client?: Partial<Omit<RpcClientOptions, 'host' | 'port'>>;
  /**
   * Interceptors around each call through `proxy()`, outside balancing and retries (they see one call, however
   * many endpoints it tries), the first outermost. Interceptors in `client.interceptors` run once per attempt.
   */
  interceptors?: readonly ClientInterceptor[];
}

export interface ClusterEvents {
  /** The set of endpoints offered to balancers changed. */
  healthy: (endpointIds: string[]) => void;
}

/**
 * A client over many endpoints with the same typed proxy as `RpcClient`. One multiplexed connection per
 * endpoint (opened lazily; a failing endpoint's circuit opens with exponential backoff and jitter); balancers
 * see only healthy endpoints; `@ShardKey` methods route by consistent hash of the key.
 */
export class ClusterClient extends EventEmitter<ClusterEvents> implements Invoker {
  private readonly source: EndpointSource;
  private readonly states = new Map<string, EndpointState>();
  private readonly balancer: Balancer;
  private readonly shardBalancer: Balancer;
  private readonly budget: RetryBudget;
  private readonly unsubscribe: () => void;
  private readonly load: LoadInfo;
  private readonly defaultTimeoutMs: number;
  private healthyIds = '';
  private closed = false;
  private readonly chain: ClientNext | undefined;

  constructor(private readonly options: ClusterClientOptions) {
    super();
    this.source = isSource(options.endpoints) ? options.endpoints : new StaticEndpointSource(options.endpoints);
    this.load = {
      inFlight: (e) => this.states.get(e.id)?.inFlight ?? 0,
      latencyMs: (e) => this.states.get(e.id)?.latencyMs ?? 0,
    };
    const made = { ...options.balancerOptions, load: this.load };
    this.balancer = typeof options.balancer === 'object' ? options.balancer : balancers.create(options.balancer ?? 'round-robin', made);
    this.shardBalancer = typeof options.shardBalancer === 'object' ? options.shardBalancer : balancers.create(options.shardBalancer ?? 'consistent-hash', made);
    this.budget = new RetryBudget(options.retryBudget);
    this.defaultTimeoutMs = options.client?.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.unsubscribe = this.source.subscribe((list) => this.setEndpoints(list));
    this.setEndpoints(this.source.endpoints());
    if (checkInterceptors(options.interceptors, 'interceptors').length > 0) {
      this.chain = compose(options.interceptors as readonly ClientInterceptor[], (c) => this.route(c.definition as MethodDefinition, c.args, { deadline: c.deadline, signal: c.signal, metadata: c.metadata }));
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
    return (shardKey === undefined ? this.balancer : this.shardBalancer).pick({ service: def.name, method, shardKey });
  }

  /** Ids of the endpoints balancers may pick now. */
  healthyEndpoints(): string[] {
    return [...this.states.values()].filter((s) => s.available).map((s) => s.endpoint.id);
  }

  /** Per-endpoint figures: calls in flight, EWMA latency, breaker state. */
  stats(): { id: string; inFlight: number; latencyMs: number; breaker: string }[] {
    return [...this.states.values()].map((s) => ({ id: s.endpoint.id, inFlight: s.inFlight, latencyMs: s.latencyMs, breaker: s.breaker.current }));
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
      const deadline = options?.deadline ?? Date.now() + (options?.timeoutMs ?? this.defaultTimeoutMs);
      if (this.chain === undefined) return this.route(m, args, { ...options, deadline });
      return this.chain({ service: m.service, method: m.name, definition: m, args, metadata: { ...options?.metadata }, deadline, signal: options?.signal });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Balances (or routes by shard key) and retries; `options.deadline` is set. */
  private route(m: MethodDefinition, args: unknown[], options: CallOptions): Promise<unknown> {
    const shardKey = m.shardKey ? extractShardKey(m, args) : undefined;
    return this.attempt(m, args, options, shardKey);
  }

  private async attempt(m: MethodDefinition, args: unknown[], options: CallOptions, shardKey: string | undefined): Promise<unknown> {
    const request = { service: m.service, method: m.name, shardKey };
    const balancer = shardKey === undefined ? this.balancer : this.shardBalancer;
    const maxAttempts = this.options.failMode === 'failfast' ? 1 : Math.max(1, this.options.maxAttempts ?? 3);
    const tried = new Set<string>();
    let lastError: RpcError | undefined;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (this.closed) throw new RpcError(RpcCode.UNAVAILABLE, 'cluster client is closed', { mayHaveRun: false });
      const endpoint = balancer.pick(request, tried);
      const state = endpoint && this.states.get(endpoint.id);
      if (!state) throw lastError ?? noEndpoint(m, tried.size);
      try {
        const value = await state.call(m.service, m.name, args, options);
        this.budget.onSuccess();
        return value;
      } catch (err) {
        const e = err as RpcError;
        this.budget.onFailure();
        if (!this.mayRetry(e, m, options)) throw e;
        tried.add(state.endpoint.id);
        lastError = e;
      }
    }
    throw lastError ?? noEndpoint(m, tried.size);
  }

  /** Retry only what is safe: a request that never ran, or any retryable failure of an idempotent method. */
  private mayRetry(err: RpcError, m: MethodDefinition, options: CallOptions): boolean {
    if (!RpcError.is(err) || !err.retryable) return false;
    if (err.mayHaveRun && !m.options.idempotent) return false;
    if ((options.deadline as number) <= Date.now() || options.signal?.aborted) return false;
    return this.budget.canRetry();
  }

  private broadcaster(mode: BroadcastMode): (def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined) => Promise<unknown> {
    return (def, method, args, options) => {
      const targets = [...this.states.values()];
      const deadline = options?.deadline ?? Date.now() + (options?.timeoutMs ?? this.defaultTimeoutMs);
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
    for (const [id, e] of wanted) {
      if (!this.states.has(id)) this.states.set(id, new EndpointState(e, this.options.client ?? {}, this.options.circuitBreaker ?? {}, () => this.refresh()));
    }
    this.refresh(true);
  }

  /** Gives balancers the healthy endpoints; rebuilds only when that set (or the list itself) changed. */
  private refresh(force = false): void {
    const healthy = [...this.states.values()].filter((s) => s.available).map((s) => s.endpoint);
    const ids = healthy.map((e) => `${e.id}*${e.weight}`).join(',');
    if (!force && ids === this.healthyIds) return;
    this.healthyIds = ids;
    this.balancer.update(healthy);
    this.shardBalancer.update(healthy);
    this.emit('healthy', healthy.map((e) => e.id));
  }
}

function isSource(x: ClusterClientOptions['endpoints']): x is EndpointSource {
  return typeof (x as EndpointSource).subscribe === 'function';
}

function noEndpoint(m: MethodDefinition, tried: number): RpcError {
  const why = tried > 0 ? `every endpoint tried failed (${tried})` : 'no healthy endpoint';
  return new RpcError(RpcCode.UNAVAILABLE, `${m.service}.${m.name}: ${why}`, { mayHaveRun: false });
}
