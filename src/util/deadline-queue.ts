import { clampDelay, unrefTimer } from './timers';

/**
 * How far from the tail an insertion may walk to keep the queue sorted before the entry is given a timer of
 * its own instead: calls made with one timeout arrive in deadline order and insert at the tail, and a mix of
 * timeouts must not make an insertion cost a walk over every call in flight.
 */
export const MAX_DEADLINE_INSERT_STEPS = 8;

/** What the queue needs from an entry; the links are the queue's own, the entry only carries them. */
export interface DeadlineEntry {
  /** When the entry expires, epoch ms; set by {@link DeadlineQueue.add}. */
  expireAtMs: number;
  prevDeadline: DeadlineEntry | undefined;
  nextDeadline: DeadlineEntry | undefined;
  /** Whether the entry is linked into a queue. */
  queuedDeadline: boolean;
  /** Its deadline has passed; called once, after the entry has left the queue. Must not throw. */
  expire(): void;
}

/**
 * The deadlines of one connection's calls as a list sorted by expiry with one timer for its head, instead of
 * one `setTimeout` per call: adding and removing a call are a few pointer writes, and the timer is re-armed
 * only when it fires (a head that settled early leaves it armed; it then finds nothing due and moves on).
 * Deadlines fire as precisely as a timer of their own would, and never before `Date.now()` has reached them:
 * call deadlines are epoch ms (see `callDeadline`), and the clock the caller has just read is reused here.
 */
export class DeadlineQueue {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Infinity;
  private readonly fire = (): void => this.onTimer();

  /**
   * Queues `entry` to expire `timeoutMs` after `nowMs` (`Date.now()`, read by the caller). Returns false,
   * queuing nothing, when keeping the order would take more than {@link MAX_DEADLINE_INSERT_STEPS} steps:
   * the caller then times the entry itself.
   */
  add(entry: DeadlineEntry, timeoutMs: number, nowMs = Date.now()): boolean {
    const at = nowMs + timeoutMs;
    let after = this.tail;
    for (let steps = 0; after !== undefined && after.expireAtMs > at; steps++) {
      if (steps === MAX_DEADLINE_INSERT_STEPS) return false;
      after = after.prevDeadline;
    }
    entry.expireAtMs = at;
    entry.queuedDeadline = true;
    entry.prevDeadline = after;
    entry.nextDeadline = after === undefined ? this.head : after.nextDeadline;
    if (entry.nextDeadline === undefined) this.tail = entry;
    else entry.nextDeadline.prevDeadline = entry;
    if (after === undefined) {
      this.head = entry;
      this.arm(at);
    } else after.nextDeadline = entry;
    return true;
  }

  /**
   * Unlinks `entry` (a no-op when it is not queued). While others remain the timer stays armed (it re-arms for
   * the new head when it fires); the last one out stops it, so an idle connection holds no timer.
   */
  remove(entry: DeadlineEntry): void {
    if (!entry.queuedDeadline) return;
    entry.queuedDeadline = false;
    const { prevDeadline: prev, nextDeadline: next } = entry;
    if (prev === undefined) this.head = next;
    else prev.nextDeadline = next;
    if (next === undefined) this.tail = prev;
    else next.prevDeadline = prev;
    entry.prevDeadline = entry.nextDeadline = undefined;
    if (this.head === undefined) this.close();
  }

  /** Stops the timer; entries still queued never expire unless another is added (the connection fails them itself). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }

  private arm(atMs: number): void {
    if (this.timer !== undefined && this.timerAtMs <= atMs) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = unrefTimer(setTimeout(this.fire, clampDelay(Math.ceil(atMs - Date.now()))));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    const now = Date.now();
    for (let e = this.head; e !== undefined && e.expireAtMs <= now; e = this.head) {
      this.remove(e);
      e.expire();
    }
    if (this.head !== undefined) this.arm(this.head.expireAtMs);
  }
}
