import { performance } from 'node:perf_hooks';
import type { Endpoint } from '../balancer/endpoint';
import type { CallOptions } from '../client/call-options';
import type { CallSink } from '../client/pending-call';
import { RpcClient, type RpcClientOptions } from '../client/rpc-client';
import { isPeerAnswer, RpcCode, RpcError } from '../errors/rpc-error';
import { CircuitBreaker, type CircuitBreakerOptions, type FailureKind } from './circuit-breaker';
import { OutlierDetector, type OutlierDetectionOptions } from './outlier-detector';
import { clampDelay, unrefTimer } from '../util/timers';

const EWMA_ALPHA = 0.2;
/**
 * One call in this many is timed for the latency average (the first of all included): two clock reads cost
 * about 0.2 µs, a twentieth of a small call's client CPU, and an average needs no more than a sample.
 */
export const LATENCY_SAMPLE_EVERY = 8;
/** How long the background probe waits for the PING's answer, ms. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;
/** How long a call waits for an endpoint's connection to open before it moves on to another endpoint, ms. */
export const DEFAULT_CONNECT_WAIT_MS = 500;

/** What an endpoint's state needs from its cluster. */
export interface EndpointStateHooks {
  onHealthChange(): void;
  /** Whether one more endpoint may be soft-ejected (the maximum ejection share). */
  mayEject(): boolean;
  /** Whether another endpoint than this one is available now (else a slow connect is waited for). */
  hasAlternative(self: EndpointState): boolean;
}

export interface EndpointStateOptions {
  client: Partial<RpcClientOptions>;
  /** See `ClusterClientOptions.connectWaitMs`. */
  connectWaitMs?: number;
  breaker: CircuitBreakerOptions;
  outlierDetection?: OutlierDetectionOptions;
}

/**
 * How one failed call bears on its endpoint's health. Only transport facts count: an answer of any code
 * proves the endpoint reachable; a cancellation, or a call refused before it was sent, says nothing.
 */
export function classifyFailure(err: unknown, answeredSinceSend: boolean): FailureKind | 'answer' | 'none' {
  if (!RpcError.is(err)) return 'none';
  if (isPeerAnswer(err)) return 'answer';
  if (err.code === RpcCode.UNAVAILABLE)
    return err.timeout === undefined && !err.mayHaveRun && /client is closed|left the cluster/.test(err.message) ? 'none' : 'hard';
  if (err.code === RpcCode.DEADLINE_EXCEEDED) return answeredSinceSend ? 'none' : 'soft';
  return 'none'; // CANCELLED, or refused before sending (encoding, frame limit, protocol mismatch)
}

/**
 * Whether `err` is a connection-level failure that never left this client and says nothing of any server
 * (refused connection, an endpoint that just left): safe and cheap to try elsewhere. A request refused
 * locally for its own sake (too large, not encodable) is not: it would fail the same everywhere.
 */
export function neverSent(err: unknown): boolean {
  return RpcError.is(err) && err.code === RpcCode.UNAVAILABLE && !isPeerAnswer(err) && !err.mayHaveRun;
}

/** What comes after one call to an endpoint: see {@link EndpointState.call}. */
export interface CallContinuation {
  success(value: unknown): unknown;
  failure(err: unknown): Promise<unknown>;
}

/** The outcome of a call sent by {@link EndpointState.sendInto}, which sets its two marks. */
export interface EndpointCallSink extends CallSink {
  /** performance.now() when the call went out if it is timed, else 0. */
  started: number;
  /** The endpoint's answer count when the call went out. */
  answersAtSend: number;
}

/** One endpoint as the cluster client sees it: its connection, its load figures, its circuit breaker. */
export class EndpointState {
  readonly client: RpcClient;
  readonly breaker: CircuitBreaker;
  inFlight = 0;
  latencyMs = 0;
  private retired = false;
  /** Answers from this endpoint so far (errors it sent included): a call that timed out after this grew was not lost to silence. */
  private answers = 0;
  /** Calls sent so far: picks the ones timed for the latency average. */
  private sends = 0;
  private readonly outliers: OutlierDetector | undefined;
  private connected = false;
  private readonly connectWaitMs: number;
  private readonly hooks: EndpointStateHooks;

  constructor(
    /** Replaced (same host and port) when the source changes the endpoint's weight or metadata. */
    public endpoint: Endpoint,
    options: EndpointStateOptions,
    hooks: EndpointStateHooks,
  ) {
    this.client = new RpcClient({ ...options.client, host: endpoint.host, port: endpoint.port });
    this.breaker = new CircuitBreaker(options.breaker, {
      onChange: () => hooks.onHealthChange(),
      mayEject: () => hooks.mayEject(),
      probe: () => this.probe(),
    });
    this.outliers = options.outlierDetection ? new OutlierDetector(options.outlierDetection) : undefined;
    this.connectWaitMs = options.connectWaitMs ?? DEFAULT_CONNECT_WAIT_MS;
    this.hooks = hooks;
    this.client.on('connect', () => (this.connected = true));
    // A failed connection attempt (refused, connect or handshake timeout) is a transport fact even when the
    // call that started it gave up first (its deadline passed while connecting).
    this.client.on('error', () => this.breaker.onFailure('hard'));
    this.client.on('disconnect', (_remote, err) => {
      this.connected = false;
      if (err) this.breaker.onFailure('hard');
    });
    // GOAWAY is no verdict: a server also sends it to a connection that idled (idleTimeoutMs). The next call
    // opens a new connection; a server that is shutting down refuses it, which opens the circuit then.
    this.client.on('goaway', () => (this.connected = false)); // leaving: out of rotation now; a probe brings it back if it stays
  }

  get available(): boolean {
    return !this.retired && this.breaker.available;
  }

  /**
   * `then`: what the caller does next, run in this call's own continuation so that the call costs one promise
   * beyond the connection's: `success` after the figures are counted, and `failure` (which may retry elsewhere)
   * instead of a rejection.
   */
  call(service: string, method: string, args: unknown[], options: CallOptions, then?: CallContinuation): Promise<unknown> {
    if (this.retired) {
      const err = new RpcError(RpcCode.UNAVAILABLE, `${this.endpoint.id} left the cluster`, { mayHaveRun: false });
      return then ? then.failure(err) : Promise.reject(err);
    }
    if (!this.connected && (options.deadline as number) - Date.now() > this.connectWaitMs && this.hooks.hasAlternative(this)) {
      const waited = this.callWhenConnected(service, method, args, options);
      return then
        ? waited.then(
            (value) => then.success(value),
            (err: unknown) => then.failure(err),
          )
        : waited;
    }
    // Connected: the call goes out now, without an async frame of its own (one fewer promise per call).
    const started = this.begin();
    const answersAtSend = this.answers;
    return this.client.call(service, method, args, options).then(
      (value) => {
        this.answered(started);
        return then ? then.success(value) : value;
      },
      (err: unknown) => {
        this.failed(err, answersAtSend);
        if (then) return then.failure(err);
        throw err;
      },
    );
  }

  /**
   * The first try of a ClusterClient call, when it can go out at once (the endpoint's client has a ready
   * connection, and no interceptors or metadata of its own): counted as {@link call} counts it, its outcome
   * handed to `sink`, which reports back through {@link answered} and {@link failed}. Returns false, doing
   * nothing, otherwise: the caller then uses {@link call}.
   */
  sendInto(sink: EndpointCallSink, service: string, method: string, args: unknown[], options: CallOptions, nowMs: number): boolean {
    const conn = this.retired ? undefined : this.client.directConnection();
    if (conn === undefined) return false;
    sink.started = this.begin();
    sink.answersAtSend = this.answers;
    conn.requestInto(sink, service, method, args, options.deadline as number, options.signal, options.metadata, nowMs);
    return true;
  }

  /** Not connected yet: wait (up to `connectWaitMs`) for the connection, so that a slow one can be skipped. */
  private async callWhenConnected(service: string, method: string, args: unknown[], options: CallOptions): Promise<unknown> {
    const started = this.begin();
    const answersAtSend = this.answers;
    let value: unknown;
    try {
      await this.connectWithin();
      value = await this.client.call(service, method, args, options);
    } catch (err) {
      this.failed(err, answersAtSend);
      throw err;
    }
    this.answered(started); // outside the try: it settles the call's count itself, even when it throws
    return value;
  }

  /**
   * Counts a call going out (the breaker's send, the in-flight figure); returns its start mark: performance.now()
   * for a call timed for the latency average, 0 for one that is not.
   */
  private begin(): number {
    this.breaker.onSend();
    this.inFlight++;
    return this.sends++ % LATENCY_SAMPLE_EVERY === 0 ? performance.now() : 0;
  }

  /** A call counted by {@link sendInto} (or {@link call}) was answered; `started`: its start mark. */
  answered(started: number): void {
    this.answers++;
    if (started !== 0) this.observe(performance.now() - started);
    try {
      this.breaker.onSuccess(); // may close the circuit and emit 'healthy', whose listeners may throw
      this.outliers?.record(undefined);
    } finally {
      this.settled();
    }
  }

  /** A call counted by {@link sendInto} (or {@link call}) failed with `err`; `answersAtSend`: the answer count when it went out. */
  failed(err: unknown, answersAtSend: number): void {
    try {
      this.judge(err, answersAtSend);
    } finally {
      this.settled();
    }
  }

  private settled(): void {
    this.inFlight--;
    if (this.retired && this.inFlight === 0) void this.client.close();
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

  private judge(err: unknown, answersAtSend: number): void {
    const verdict = classifyFailure(err, this.answers > answersAtSend);
    if (verdict === 'answer') {
      this.answers++;
      this.breaker.onSuccess(); // the server answered: it is reachable, whatever it thought of the call
      const ejectMs = this.outliers?.record((err as RpcError).code) ?? 0;
      if (ejectMs > 0 && this.breaker.eject(ejectMs)) this.outliers?.ejected();
    } else if (verdict === 'none') {
      this.breaker.release();
    } else {
      this.breaker.onFailure(verdict);
    }
  }

  /**
   * A call that finds no open connection (with more than `connectWaitMs` left, and another endpoint to go to) waits for one at most that long: a
   * black-holed address must not hold the call for the whole connect timeout when other endpoints answer.
   * Past the wait the endpoint's circuit opens and the call moves on (nothing was sent); the attempt goes
   * on in the background and its outcome reaches the breaker.
   */
  private async connectWithin(): Promise<void> {
    const waitMs = this.connectWaitMs;
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => (timer = unrefTimer(setTimeout(() => resolve('slow'), clampDelay(waitMs)))));
    const opened = this.client.connect().then(() => 'open' as const);
    opened.catch(() => undefined);
    try {
      if ((await Promise.race([opened, slow])) === 'open') return;
    } finally {
      clearTimeout(timer);
    }
    this.breaker.onFailure('hard');
    throw new RpcError(RpcCode.UNAVAILABLE, `connecting to ${this.endpoint.id} took over ${waitMs} ms`, {
      mayHaveRun: false,
      timeout: 'connect',
    });
  }

  /** The background probe of an open circuit: a connection and a PING answered, no call risked. */
  private async probe(): Promise<boolean> {
    if (this.retired) return false;
    try {
      await this.client.ping(DEFAULT_PROBE_TIMEOUT_MS);
      return true;
    } catch {
      return false;
    }
  }
}
