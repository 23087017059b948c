import { clampDelay, unrefTimer } from '../util/timers';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** First open period, ms; doubles (with jitter) each time a half-open probe fails. Default 250. */
  initialOpenMs?: number;
  /** Longest open period, ms. Default 15 s. */
  maxOpenMs?: number;
  /** ± fraction of random spread on each open period, so clients do not probe in step. Default 0.2. */
  jitter?: number;
  random?: () => number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Per-endpoint health. Closed: calls flow, consecutive failures are counted. Open: the endpoint is left out
 * of balancing until its period ends (exponential backoff with jitter; a refused connection opens it at
 * once). Half-open: one probe call goes through; its success closes the circuit, its failure reopens it.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private opens = 0;
  private probing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly threshold: number;
  private readonly initialOpenMs: number;
  private readonly maxOpenMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  /** `onChange` is called whenever the endpoint's availability to new calls changes. */
  constructor(
    options: CircuitBreakerOptions,
    private readonly onChange: () => void,
  ) {
    this.threshold = options.failureThreshold ?? 5;
    this.initialOpenMs = options.initialOpenMs ?? 250;
    this.maxOpenMs = options.maxOpenMs ?? 15_000;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
  }

  get current(): BreakerState {
    return this.state;
  }

  /** Whether a new call may be sent here (in half-open, only while no probe is out). */
  get available(): boolean {
    return this.state === 'closed' || (this.state === 'half-open' && !this.probing);
  }

  /** Called as a call is sent; in half-open it becomes the probe. */
  onSend(): void {
    if (this.state === 'half-open' && !this.probing) {
      this.probing = true;
      this.onChange();
    }
  }

  onSuccess(): void {
    const wasClosed = this.state === 'closed';
    this.failures = 0;
    this.opens = 0;
    this.probing = false;
    this.state = 'closed';
    if (!wasClosed) this.onChange();
  }

  /** A failure that says something about the endpoint's health. `fatal` (connection refused/lost) opens at once. */
  onFailure(fatal: boolean): void {
    this.failures++;
    if (this.state === 'open') return;
    if (this.state === 'half-open' || fatal || this.failures >= this.threshold) this.open();
  }

  /** Stops the timer; the breaker is no longer used. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private open(): void {
    this.state = 'open';
    this.probing = false;
    const base = Math.min(this.maxOpenMs, this.initialOpenMs * 2 ** this.opens);
    this.opens++;
    const spread = 1 + this.jitter * (2 * this.random() - 1);
    this.dispose();
    this.timer = unrefTimer(setTimeout(() => this.halfOpen(), clampDelay(base * spread)));
    this.onChange();
  }

  private halfOpen(): void {
    this.timer = undefined;
    this.state = 'half-open';
    this.onChange();
  }
}
