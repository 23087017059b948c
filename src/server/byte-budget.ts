/**
 * The server-wide count of bytes held in incomplete frames and queued output, over all connections. Past
 * `maxBytes`, connections holding more than a little pause reading (TCP backpressure on their peers) and wait
 * here; they are woken when bytes are released. Stalled holders are dropped by their frame stall timeout.
 */
export class ByteBudget {
  private held = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly maxBytes: number) {}

  get heldBytes(): number {
    return this.held;
  }

  get exhausted(): boolean {
    return this.held > this.maxBytes;
  }

  /** Adds (or, negative, releases) bytes; a release that brings the total under the cap wakes the waiters. */
  add(deltaBytes: number): void {
    this.held += deltaBytes;
    if (deltaBytes < 0 && this.waiting.size > 0 && this.held <= this.maxBytes) {
      const woken = [...this.waiting];
      this.waiting.clear();
      for (const wake of woken) wake();
    }
  }

  /** `wake` is called once, the next time bytes are released under the cap. */
  wait(wake: () => void): void {
    this.waiting.add(wake);
  }

  unwait(wake: () => void): void {
    this.waiting.delete(wake);
  }
}
