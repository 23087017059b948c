import { RpcCode, RpcError } from '../errors/rpc-error';
import { clampDelay, unrefTimer } from '../util/timers';
import type { DeadlineEntry, DeadlineQueue } from '../util/deadline-queue';

/** `queuedAt` of a call not yet handed to the writer. */
export const NOT_QUEUED = -1;

/** What a pending call needs from its connection. */
export interface PendingOwner {
  /** The call gave up (deadline or cancel) before an answer: forget it; send CANCEL if it went out. */
  abandon(id: number): void;
  /** The connection's deadlines, one timer for all its calls. */
  readonly deadlines: DeadlineQueue;
}

/**
 * Where a call's outcome goes when it has no promise of its own: the ClusterClient's first try, whose answer
 * settles the caller's promise directly (and whose failure starts the failover) instead of passing through a
 * second promise. Called once, synchronously from the frame (or timer, or abort) that settles the call.
 */
export interface CallSink {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * One call waiting for its answer: one promise (or a {@link CallSink}), one table entry, a place in the connection's deadline queue
 * (or, when that would cost a long walk, a timer of its own) and at most one abort listener, all released in
 * `settle`.
 */
export class PendingCall implements DeadlineEntry {
  private timer: NodeJS.Timeout | undefined;
  private settled = false;
  private readonly onAbort: (() => void) | undefined;
  expireAtMs = 0;
  prevDeadline: DeadlineEntry | undefined = undefined;
  nextDeadline: DeadlineEntry | undefined = undefined;
  queuedDeadline = false;

  constructor(
    private readonly owner: PendingOwner,
    readonly id: number,
    private readonly service: string,
    private readonly method: string,
    /**
     * The writer's flush count when the request was queued: the request is on the socket once flushes exceed
     * it. {@link NOT_QUEUED} while the call waits for the socket to take bytes (it certainly has not run).
     */
    public queuedAt: number,
    /** Time left before the call's deadline, ms (the caller has just measured it). */
    timeoutMs: number,
    /** `Date.now()` when `timeoutMs` was measured. */
    nowMs: number,
    private readonly signal: AbortSignal | undefined,
    /** The outcome goes to `sink` when there is one, else to these (the executor's functions of the call's promise). */
    private readonly sink: CallSink | undefined,
    private readonly resolveFn: ((value: unknown) => void) | undefined,
    private readonly rejectFn: ((err: RpcError) => void) | undefined,
  ) {
    if (!owner.deadlines.add(this, timeoutMs, nowMs)) this.timer = unrefTimer(setTimeout(() => this.expire(), clampDelay(timeoutMs)));
    if (signal) {
      this.onAbort = () => this.cancel();
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Whether the request was handed to the writer (false: it waits for room, and certainly never ran). */
  get queued(): boolean {
    return this.queuedAt !== NOT_QUEUED;
  }

  get what(): string {
    return `${this.service}.${this.method}`;
  }

  resolve(value: unknown): void {
    if (!this.release()) return;
    if (this.sink !== undefined) this.sink.resolve(value);
    else (this.resolveFn as (value: unknown) => void)(value);
  }

  reject(err: RpcError): void {
    if (!this.release()) return;
    if (this.sink !== undefined) this.sink.reject(err);
    else (this.rejectFn as (err: RpcError) => void)(err);
  }

  /** The deadline passed (from the queue or the call's own timer). */
  expire(): void {
    this.timer = undefined;
    this.owner.abandon(this.id);
    const waiting = this.queued ? '' : ' while waiting for the connection to take more bytes';
    this.reject(
      new RpcError(RpcCode.DEADLINE_EXCEEDED, `${this.what}: deadline exceeded${waiting}`, { timeout: 'call', mayHaveRun: this.queued }),
    );
  }

  private cancel(): void {
    const queued = this.queued;
    this.owner.abandon(this.id);
    this.reject(cancelledError(this.what, this.signal, queued));
  }

  private release(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.owner.deadlines.remove(this);
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    return true;
  }
}

/** `sent`: whether the request had been handed to the connection (false: it certainly never ran). */
export function cancelledError(what: string, signal: AbortSignal | undefined, sent = true): RpcError {
  const reason: unknown = signal?.reason;
  const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new RpcError(RpcCode.CANCELLED, `${what}: cancelled by the caller${why}`, { cause: reason, mayHaveRun: sent });
}
