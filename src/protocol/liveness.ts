/** The clocks that decide a connection is dead or stuck: frame stall, and keepalive. */
export interface LivenessSettings {
  /** An incomplete frame that receives no byte for this long drops its connection. */
  readonly frameStallTimeoutMs: number;
  /** PING after this long without a byte from the peer; 0: never. */
  readonly keepaliveMs: number;
  /** No byte for this long after a PING: the peer is gone. */
  readonly keepaliveTimeoutMs: number;
}

/** What the connection must do now; see docs/LIMITS.md. */
export type LivenessVerdict = 'stalled' | 'squeezed' | 'ping' | 'silent' | undefined;

/** How often the clocks are looked at: a quarter of the shortest, within 10 ms-1 s. */
export function livenessTickMs(...clocksMs: number[]): number {
  const enabled = clocksMs.filter((ms) => ms > 0);
  return Math.max(10, Math.min(1000, Math.min(...enabled) / 4));
}

/**
 * Per-connection timestamps, updated once per received chunk and per frame (no clock read per frame), and
 * judged once per tick. Any byte from the peer answers a PING: a busy peer's PONG may queue behind answers.
 */
export class Liveness {
  private lastByteAt = Date.now();
  private pingSentAt = 0;
  /** When the frame now incomplete began (the chunk it began in), and whether it was paused for memory. */
  private frameStartedAt = this.lastByteAt;
  private squeezed = false;

  constructor(private readonly settings: LivenessSettings) {}

  /** The time of the chunk being read, ms. */
  get lastByteMs(): number {
    return this.lastByteAt;
  }

  /** A chunk arrived; `midFrame`: whether the reader was inside a frame before it. */
  onBytes(midFrame: boolean): void {
    this.lastByteAt = Date.now();
    if (!midFrame) this.frameStartedAt = this.lastByteAt;
  }

  /** A whole frame was delivered: the next one begins in the same chunk. */
  onFrame(): void {
    this.frameStartedAt = this.lastByteAt;
    this.squeezed = false;
  }

  /** Reading was paused for a shared memory budget: bytes read later were sent long before. */
  squeeze(): void {
    this.squeezed = true;
  }

  /**
   * `midFrame`: a frame is incomplete. `frameCanProgress`: we are reading, or paused only for the shared
   * budget (a pause for our own output does not count against the peer). `canPing`: we are reading, so an
   * answer would be seen.
   */
  check(now: number, midFrame: boolean, frameCanProgress: boolean, canPing: boolean): LivenessVerdict {
    const s = this.settings;
    if (midFrame && frameCanProgress) {
      if (now - this.lastByteAt > s.frameStallTimeoutMs) return 'stalled';
      if (this.squeezed && now - this.frameStartedAt > s.frameStallTimeoutMs) return 'squeezed';
    }
    if (s.keepaliveMs <= 0 || !canPing) return undefined;
    if (this.pingSentAt > 0 && this.lastByteAt < this.pingSentAt) {
      return now - this.pingSentAt > s.keepaliveTimeoutMs ? 'silent' : undefined;
    }
    if (now - this.lastByteAt < s.keepaliveMs) return undefined;
    this.pingSentAt = now;
    return 'ping';
  }
}
