import { MAX_TIMER_MS } from './timers';

/**
 * Checks for option values, applied where an option is given. The rules (docs/LIMITS.md):
 * - a timeout is a number of milliseconds; NaN, negative or non-numbers are a `RangeError` naming the option;
 * - `Infinity` (or anything above 2^31-1 ms) means "no limit" and is clamped to the timer maximum, 2^31-1 ms;
 * - `0` is refused where it has no meaning, and means "off" where the option says so;
 * - a byte or count limit is an integer within its range; `Infinity` only where the option says "no limit".
 */

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A timeout that must be > 0 (`Infinity`: no limit, clamped). `undefined` gives `fallback`. */
export function positiveTimeoutMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) {
    throw new RangeError(`${name} must be a number of milliseconds > 0 (Infinity for no limit), got ${describe(value)}`);
  }
  return Math.min(value, MAX_TIMER_MS);
}

/** A timeout where 0 has a meaning (off, or at once). `Infinity`: no limit, clamped. */
export function timeoutOrZeroMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new RangeError(`${name} must be a number of milliseconds >= 0 (Infinity for no limit), got ${describe(value)}`);
  }
  return Math.min(value, MAX_TIMER_MS);
}

/** An integer limit in [min, max]; `Infinity` is accepted (and returned) only when `infinite` says so. */
export function integerLimit(name: string, value: unknown, fallback: number, min: number, max: number, infinite = false): number {
  if (value === undefined) return fallback;
  if (infinite && value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = `an integer from ${min} to ${max}${infinite ? ', or Infinity for no limit' : ''}`;
    throw new RangeError(`${name} must be ${range}, got ${describe(value)}`);
  }
  return value;
}
