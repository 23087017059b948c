/** setTimeout's ceiling: larger delays fire at once in Node, so every delay is clamped to it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function clampDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms;
}

/** Timers of the library never keep the process alive by themselves. */
export function unrefTimer<T extends { unref(): unknown }>(timer: T): T {
  timer.unref();
  return timer;
}
