import { RpcCode, RpcError } from '../errors/rpc-error';
import { Credit } from './stream-window';

/** What the sending end of a client stream needs from its connection. */
export interface OutboundOwner {
  /** Encodes and queues one item; returns its payload bytes, or an RpcError when it cannot go. */
  sendInputItem(id: number, item: unknown): number | RpcError;
  sendInputEnd(id: number): void;
  /** The caller's iterable failed, or an item could not go: cancel the call with `err`. */
  failInput(id: number, err: RpcError): void;
}

/**
 * The caller's end of a client (or bidi) stream: pulls the caller's iterable only while the server has
 * granted credit, so an upload never runs ahead of a handler that reads slowly. Stopped when the call ends
 * however it ends; the iterable's `return()` is then called, so its `finally` runs.
 */
export class OutboundStream {
  private readonly credit = new Credit();
  private readonly iterator: Iterator<unknown> | AsyncIterator<unknown>;
  private wakeUp: (() => void) | undefined;
  private stopped = false;
  private finished = false;
  /** Items sent so far. */
  sent = 0;

  constructor(
    private readonly owner: OutboundOwner,
    readonly id: number,
    readonly what: string,
    source: unknown,
  ) {
    // Throws before anything is sent when `source` is not iterable.
    this.iterator = iteratorOf(source, what);
  }

  /** Starts pulling the iterable (it waits for the server's first WINDOW). */
  start(): void {
    void this.pump(this.iterator);
  }

  /** A WINDOW frame from the server; false when the payload is not `[messages, bytes]`. */
  grant(payload: unknown): boolean {
    if (!this.credit.grant(payload)) return false;
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
    return true;
  }

  /** The call ended: pull nothing more, and close the iterable unless it ran to its end. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
    if (!this.finished) closeQuietly(this.iterator);
  }

  private async pump(it: Iterator<unknown> | AsyncIterator<unknown>): Promise<void> {
    for (;;) {
      if (!this.credit.open) await new Promise<void>((resolve) => (this.wakeUp = resolve));
      if (this.stopped) return;
      let next: IteratorResult<unknown>;
      try {
        next = await it.next();
      } catch (err) {
        this.finished = true; // a generator that threw is closed already
        return this.owner.failInput(this.id, threwError(this.what, this.sent, err));
      }
      if (this.stopped) return;
      if (next.done === true) {
        this.finished = true;
        return this.owner.sendInputEnd(this.id);
      }
      const bytes = this.owner.sendInputItem(this.id, next.value);
      if (bytes instanceof RpcError) return this.owner.failInput(this.id, bytes);
      this.sent += 1;
      this.credit.spend(bytes);
    }
  }
}

function iteratorOf(source: unknown, what: string): Iterator<unknown> | AsyncIterator<unknown> {
  const s = source as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null | undefined;
  const asyncIt = s?.[Symbol.asyncIterator];
  if (typeof asyncIt === 'function') return asyncIt.call(s);
  const syncIt = s?.[Symbol.iterator];
  if (typeof syncIt === 'function' && typeof s !== 'string') return syncIt.call(s);
  throw new RpcError(RpcCode.INVALID_ARGUMENT, `${what}: the first argument must be an AsyncIterable or an Iterable of items`, {
    mayHaveRun: false,
  });
}

function threwError(what: string, sent: number, err: unknown): RpcError {
  const message = err instanceof Error ? err.message : String(err);
  return new RpcError(RpcCode.CANCELLED, `${what}: the request stream threw after ${sent} items: ${message}`, { cause: err });
}

function closeQuietly(it: Iterator<unknown> | AsyncIterator<unknown>): void {
  try {
    const done = it.return?.();
    if (done instanceof Promise) done.catch(() => undefined);
  } catch {
    // a return() that throws changes nothing: the call is over
  }
}
