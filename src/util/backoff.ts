import { clampDelay, unrefTimer } from './timers';

/** Exponential backoff with ±20 % jitter between `minMs` and `maxMs`. */
export class Backoff {
  private nextMs: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.nextMs = minMs;
  }

  /** The delay before the next try; each call doubles the one after, up to `maxMs`. */
  next(): number {
    const ms = this.nextMs;
    this.nextMs = Math.min(this.maxMs, this.nextMs * 2);
    return ms * (0.8 + 0.4 * Math.random());
  }

  reset(): void {
    this.nextMs = this.minMs;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; the timer never holds the process open. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = unrefTimer(setTimeout(done, clampDelay(ms)));
    signal.addEventListener('abort', done, { once: true });
  });
}
