import { performance } from 'node:perf_hooks';
import type { Endpoint } from '../balancer/endpoint';
import type { CallOptions } from '../client/call-options';
import { RpcClient, type RpcClientOptions } from '../client/rpc-client';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';

const EWMA_ALPHA = 0.2;

/** Codes that say something about the endpoint's health (counted by its circuit breaker). */
const HEALTH_FAILURES = new Set<RpcCode>([RpcCode.UNAVAILABLE, RpcCode.DEADLINE_EXCEEDED, RpcCode.RESOURCE_EXHAUSTED, RpcCode.INTERNAL]);

/** One endpoint as the cluster client sees it: its connection, its load figures, its circuit breaker. */
export class EndpointState {
  readonly client: RpcClient;
  readonly breaker: CircuitBreaker;
  inFlight = 0;
  latencyMs = 0;
  private retired = false;

  constructor(
    /** Replaced (same host and port) when the source changes the endpoint's weight or metadata. */
    public endpoint: Endpoint,
    clientOptions: Partial<RpcClientOptions>,
    breakerOptions: CircuitBreakerOptions,
    onHealthChange: () => void,
  ) {
    this.client = new RpcClient({ ...clientOptions, host: endpoint.host, port: endpoint.port });
    this.client.on('error', () => undefined); // connection failures reach the calls; the breaker counts them there
    this.breaker = new CircuitBreaker(breakerOptions, onHealthChange);
    this.client.on('disconnect', (_remote, err) => {
      if (err) this.breaker.onFailure(true);
    });
  }

  get available(): boolean {
    return !this.retired && this.breaker.available;
  }

  async call(service: string, method: string, args: unknown[], options: CallOptions): Promise<unknown> {
    if (this.retired) throw new RpcError(RpcCode.UNAVAILABLE, `${this.endpoint.id} left the cluster`, { mayHaveRun: false });
    this.breaker.onSend();
    this.inFlight++;
    const started = performance.now();
    try {
      const value = await this.client.call(service, method, args, options);
      this.observe(performance.now() - started);
      this.breaker.onSuccess();
      return value;
    } catch (err) {
      this.judge(err as RpcError);
      throw err;
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0) void this.client.close();
    }
  }

  /** The endpoint left the source: finish what is in flight, then close. */
  retire(): void {
    this.retired = true;
    this.breaker.dispose();
    if (this.inFlight === 0) void this.client.close();
  }

  private observe(ms: number): void {
    this.latencyMs = this.latencyMs === 0 ? ms : this.latencyMs + EWMA_ALPHA * (ms - this.latencyMs);
  }

  private judge(err: RpcError): void {
    if (!RpcError.is(err) || err.code === RpcCode.CANCELLED) return;
    if (HEALTH_FAILURES.has(err.code)) this.breaker.onFailure(err.code === RpcCode.UNAVAILABLE);
    else this.breaker.onSuccess(); // the server answered: it is reachable, whatever it thought of the call
  }
}
