import { MAX_TIMER_MS } from '../util/timers';

/** Per-call options. Reach them through `withOptions(proxy, options)` or `client.call(...)`. */
export interface CallOptions {
  /** Time allowed for the whole call, ms (the client's default applies when neither this nor `deadline` is given). */
  timeoutMs?: number;
  /** Absolute deadline, epoch ms; wins over `timeoutMs`. Pass a handler's `ctx.deadline` on to nested calls. */
  deadline?: number;
  /** Aborting it rejects the call at once with `CANCELLED` and cancels the handler on the server. */
  signal?: AbortSignal;
  /** String metadata for the server (tracing, auth, shard hints). */
  metadata?: Record<string, string>;
}

export function mergeOptions(base: CallOptions | undefined, extra: CallOptions): CallOptions {
  if (!base) return extra;
  const merged: CallOptions = { ...base, ...extra };
  if (base.metadata && extra.metadata) merged.metadata = { ...base.metadata, ...extra.metadata };
  if (extra.timeoutMs !== undefined && extra.deadline === undefined) delete merged.deadline;
  return merged;
}

/**
 * The absolute deadline of a call, epoch ms. `timeoutMs` must be a number >= 0 (0: already expired) and
 * `deadline` a number; NaN, negatives and non-numbers are a `RangeError` naming the option. `Infinity` means
 * no limit: the call waits up to the timer maximum (2^31-1 ms).
 */
export function callDeadline(options: CallOptions | undefined, defaultTimeoutMs: number, now = Date.now()): number {
  const deadline = options?.deadline;
  if (deadline !== undefined) {
    if (typeof deadline !== 'number' || Number.isNaN(deadline))
      throw new RangeError(`deadline must be a number (epoch ms), got ${String(deadline)}`);
    return Math.min(deadline, now + MAX_TIMER_MS);
  }
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs === undefined) return now + defaultTimeoutMs;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
    throw new RangeError(`timeoutMs must be a number of milliseconds >= 0 (Infinity for no limit), got ${String(timeoutMs)}`);
  }
  return now + Math.min(timeoutMs, MAX_TIMER_MS);
}
