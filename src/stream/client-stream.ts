import { RpcCode, RpcError } from '../errors/rpc-error';
import { clampDelay, unrefTimer } from '../util/timers';
import { DEFAULT_STREAM_WINDOW, type StreamWindow } from './stream-window';

/** What a client stream needs from its connection. */
export interface ClientStreamOwner {
  /** Grants the server more credit for this stream. */
  sendWindow(id: number, messages: number, bytes: number): void;
  /** The consumer left, or the deadline or signal ended the stream: forget it and send CANCEL. */
  abandonStream(id: number): void;
}

/**
 * The consumer's end of a server stream. Items wait in a queue bounded by the window the client granted
 * (at most `DEFAULT_STREAM_WINDOW_MESSAGES` items, or the byte window plus one item); credit is given back
 * only as the consumer takes items, so a slow consumer stops the server's generator.
 */
export class ClientStream implements AsyncIterableIterator<unknown> {
  private readonly queue: unknown[] = [];
  private readonly queueBytes: number[] = [];
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: RpcError) => void } | undefined;
  private ended = false;
  private failure: RpcError | undefined;
  private takenMessages = 0;
  private takenBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort: (() => void) | undefined;
  /** Items handed to the consumer so far. */
  delivered = 0;

  constructor(
    private readonly owner: ClientStreamOwner,
    readonly id: number,
    readonly what: string,
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    /** The window granted with the request, and given back as the consumer takes items. */
    private readonly window: StreamWindow = DEFAULT_STREAM_WINDOW,
  ) {
    this.timer = unrefTimer(
      setTimeout(
        () =>
          this.giveUp(
            new RpcError(RpcCode.DEADLINE_EXCEEDED, `${what}: deadline exceeded after ${this.delivered} items`, { timeout: 'call' }),
          ),
        clampDelay(timeoutMs),
      ),
    );
    if (signal) {
      this.onAbort = () =>
        this.giveUp(
          new RpcError(RpcCode.CANCELLED, `${what}: cancelled by the caller after ${this.delivered} items`, { cause: signal.reason }),
        );
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** A STREAM_ITEM frame arrived. */
  push(item: unknown, payloadBytes: number): void {
    if (this.ended) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      this.taken(payloadBytes);
      return w.resolve({ value: item, done: false });
    }
    this.queue.push(item);
    this.queueBytes.push(payloadBytes);
  }

  /** STREAM_END (no error) or ERROR: the consumer sees it after the items already queued. */
  end(err?: RpcError): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    this.release();
    if (this.waiter !== undefined && this.queue.length === 0) this.settleWaiter();
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift();
      this.taken(this.queueBytes.shift() ?? 0);
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return this.failure ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== undefined)
      return Promise.reject(new TypeError(`${this.what}: next() called again before the previous one settled`));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The consumer left its loop early (break, throw): cancel the server's generator. */
  return(): Promise<IteratorResult<unknown>> {
    if (!this.ended) {
      this.ended = true;
      this.release();
      this.owner.abandonStream(this.id);
    }
    this.queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  private giveUp(err: RpcError): void {
    if (this.ended) return;
    this.owner.abandonStream(this.id);
    this.queue.length = 0;
    this.end(err);
  }

  private settleWaiter(): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (this.failure) w?.reject(this.failure);
    else w?.resolve({ value: undefined, done: true });
  }

  /** Gives credit back once half the window was taken, so the server rarely waits and the queue stays bounded. */
  private taken(payloadBytes: number): void {
    this.delivered += 1;
    this.takenMessages += 1;
    this.takenBytes += payloadBytes;
    if (this.ended) return;
    if (this.takenMessages >= this.window.messages / 2 || this.takenBytes >= this.window.bytes / 2) {
      this.owner.sendWindow(this.id, this.takenMessages, this.takenBytes);
      this.takenMessages = 0;
      this.takenBytes = 0;
    }
  }

  private release(): void {
    clearTimeout(this.timer);
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
  }
}
