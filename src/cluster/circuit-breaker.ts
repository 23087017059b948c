import { clampDelay, unrefTimer } from '../util/timers';

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_INITIAL_OPEN_MS = 250;
export const DEFAULT_MAX_OPEN_MS = 15_000;
export const DEFAULT_BREAKER_JITTER = 0.2;

export interface CircuitBreakerOptions {
  /** Consecutive soft failures (deadlines with no answer from a silent connection) that open the circuit. Default 5. */
  failureThreshold?: number;
  /** First open period, ms; doubles (with jitter) each time a probe fails. Default 250. */
  initialOpenMs?: number;
  /** Longest open period, ms. Default 15 s. */
  maxOpenMs?: number;
  /** ± fraction of random spread on each open period, so clients do not probe in step. Default 0.2. */
  jitter?: number;
  random?: () => number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * `hard`: a transport fact (connection refused, reset, lost; connect or handshake timeout; GOAWAY): opens at
 * once, whatever the share already ejected, since no call can succeed there. `soft`: a deadline that passed
 * with no answer while the connection stayed silent: counted, and opens only within the ejection share.
 */
export type FailureKind = 'hard' | 'soft';

/** What the breaker asks of its owner. */
export interface BreakerHooks {
  /** Called whenever the endpoint's availability to new calls changes. */
  onChange(): void;
  /** Asked before a soft ejection; false keeps the circuit closed (the maximum ejection share is reached). */
  mayEject?(): boolean;
  /**
   * Asked when an open period ends: checks the endpoint off the call path (a connection and a PING) and
   * resolves true when it answered. Without it the circuit half-opens and the next call is the probe.
   */
  probe?(): Promise<boolean>;
}

/**
 * Per-endpoint health. Closed: calls flow. Open: the endpoint is out of balancing until its period ends
 * (exponential backoff with jitter). Then a probe runs: with `hooks.probe`, a background check (no call is
 * risked); otherwise one call. The probe's success closes the circuit, its failure reopens it for twice as
 * long, and any other outcome (cancelled, not sent) ends the probe so the next call may probe: a probe never
 * strands the endpoint.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private opens = 0;
  private probing = false;
  private softOpen = false;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly threshold: number;
  private readonly initialOpenMs: number;
  private readonly maxOpenMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly hooks: BreakerHooks;

  constructor(options: CircuitBreakerOptions, hooks: BreakerHooks | (() => void)) {
    this.threshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.initialOpenMs = options.initialOpenMs ?? DEFAULT_INITIAL_OPEN_MS;
    this.maxOpenMs = options.maxOpenMs ?? Math.max(DEFAULT_MAX_OPEN_MS, this.initialOpenMs);
    this.jitter = options.jitter ?? DEFAULT_BREAKER_JITTER;
    this.random = options.random ?? Math.random;
    this.hooks = typeof hooks === 'function' ? { onChange: hooks } : hooks;
    if (!(this.threshold >= 1)) throw new RangeError('circuitBreaker.failureThreshold must be >= 1');
    if (!(this.initialOpenMs > 0)) throw new RangeError('circuitBreaker.initialOpenMs must be > 0');
    if (!(this.maxOpenMs >= this.initialOpenMs)) throw new RangeError('circuitBreaker.maxOpenMs must be >= initialOpenMs');
  }

  get current(): BreakerState {
    return this.state;
  }

  /** True while the circuit is open because of soft failures or an outlier ejection (counted in the ejection share). */
  get softEjected(): boolean {
    return this.state !== 'closed' && this.softOpen;
  }

  /** Whether a new call may be sent here (in half-open, only while no probe is out). */
  get available(): boolean {
    return this.state === 'closed' || (this.state === 'half-open' && !this.probing);
  }

  /** Called as a call is sent; in half-open it becomes the probe. */
  onSend(): void {
    if (this.state === 'half-open' && !this.probing) {
      this.probing = true;
      this.hooks.onChange();
    }
  }

  /** The endpoint answered (any answer proves it is reachable). */
  onSuccess(): void {
    const wasClosed = this.state === 'closed';
    this.failures = 0;
    this.opens = 0;
    this.probing = false;
    this.softOpen = false;
    this.state = 'closed';
    this.clearTimer();
    if (!wasClosed) this.hooks.onChange();
  }

  /** A call ended with no verdict on health (cancelled, never sent): a probe it carried ends, nothing is counted. */
  release(): void {
    if (this.state === 'half-open' && this.probing && this.hooks.probe === undefined) {
      this.probing = false;
      this.hooks.onChange();
    }
  }

  onFailure(kind: FailureKind): void {
    if (this.state === 'open') return;
    if (kind === 'hard') return this.open(false);
    this.failures++;
    if (this.state === 'half-open' || this.failures >= this.threshold) {
      if (this.state === 'closed' && this.hooks.mayEject?.() === false) {
        this.failures = 0; // at the ejection limit: keep it in rotation rather than empty the cluster
        return;
      }
      this.open(true);
    }
  }

  /** Ejects the endpoint for `durationMs` (outlier detection), within the ejection share; then it is closed again. */
  eject(durationMs: number): boolean {
    if (this.state !== 'closed' || this.hooks.mayEject?.() === false) return false;
    this.state = 'open';
    this.softOpen = true;
    this.clearTimer();
    this.timer = unrefTimer(setTimeout(() => this.onSuccess(), clampDelay(durationMs)));
    this.hooks.onChange();
    return true;
  }

  /** Stops the timer and any probe; the breaker is no longer used. */
  dispose(): void {
    this.generation++;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private open(soft: boolean): void {
    this.generation++; // a probe still out belongs to the period that just ended
    this.state = 'open';
    this.probing = false;
    this.softOpen = soft;
    this.failures = 0;
    const base = Math.min(this.maxOpenMs, this.initialOpenMs * 2 ** this.opens);
    this.opens++;
    const spread = 1 + this.jitter * (2 * this.random() - 1);
    this.clearTimer();
    this.timer = unrefTimer(setTimeout(() => this.halfOpen(), clampDelay(base * spread)));
    this.hooks.onChange();
  }

  private halfOpen(): void {
    this.timer = undefined;
    this.state = 'half-open';
    const probe = this.hooks.probe;
    if (probe === undefined) return this.hooks.onChange();
    this.probing = true; // off the call path: calls keep away until the background check answers
    const generation = this.generation;
    probe().then(
      (ok) => this.probed(generation, ok),
      () => this.probed(generation, false),
    );
  }

  private probed(generation: number, ok: boolean): void {
    if (generation !== this.generation || this.state !== 'half-open') return;
    if (ok) this.onSuccess();
    else this.open(this.softOpen);
  }
}
