import type { ValidatorOptions } from 'class-validator';
import { RpcCode, RpcError, type RpcErrorDetail } from '../errors/rpc-error';
import type { MethodDefinition } from '../metadata/service-definition';
import { buildArgumentChecker, DEFAULT_VALIDATOR_OPTIONS, type ArgumentChecker } from '../server/argument-checker';
import { paramCheck, type ParamCheck } from '../server/param-checks';
import type { StreamWindow } from './stream-window';

/** What the receiving end of a client stream needs from its connection. */
export interface InboundOwner {
  /** Grants the client more credit for this stream (a WINDOW frame). */
  sendWindow(id: number, messages: number, bytes: number): void;
  /**
   * Items waiting for the handler grew (positive) or shrank (negative) by this many payload bytes: the
   * connection counts them in the server-wide `maxBufferedBytes`, so handlers that do not read their input
   * cannot make the server hold more than that over all connections.
   */
  inputHeld(deltaBytes: number): void;
}

/**
 * The handler's end of a client (or bidi) stream: the items the caller sends, as an `AsyncIterable`. Items
 * wait in a queue bounded by the window this side granted; credit goes back to the client only as the
 * handler takes items, so a handler that reads slowly stops the caller's iterable from being pulled.
 */
export class InboundStream implements AsyncIterableIterator<unknown> {
  private readonly queue: { value: unknown; bytes: number }[] = [];
  /** Payload bytes of the items in `queue`. */
  private queuedBytes = 0;
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | undefined;
  /** The client sent STREAM_END. */
  private inputEnded = false;
  /** The handler left its loop, or the call ended: items are dropped, no more credit is given. */
  private closed = false;
  private failure: RpcError | undefined;
  private creditMessages: number;
  private creditBytes: number;
  private takenMessages = 0;
  private takenBytes = 0;
  /** Items received so far. */
  received = 0;

  constructor(
    private readonly owner: InboundOwner,
    readonly id: number,
    readonly what: string,
    private readonly window: StreamWindow,
    private readonly check: ParamCheck | undefined,
  ) {
    this.creditMessages = window.messages;
    this.creditBytes = window.bytes;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The window granted as the call opens. */
  grantInitial(): void {
    this.owner.sendWindow(this.id, this.window.messages, this.window.bytes);
  }

  /** A STREAM_ITEM frame; returns the error that ends the call when it breaks the rules. */
  push(value: unknown, payloadBytes: number): RpcError | undefined {
    if (this.inputEnded) return new RpcError(RpcCode.INVALID_ARGUMENT, `${this.what}: STREAM_ITEM after the client's STREAM_END`);
    if (this.creditMessages <= 0 || this.creditBytes <= 0) {
      return new RpcError(
        RpcCode.RESOURCE_EXHAUSTED,
        `${this.what}: the client sent item #${this.received + 1} beyond the credit it was granted (window of ${this.window.messages} items, ${this.window.bytes} bytes)`,
      );
    }
    this.creditMessages -= 1;
    this.creditBytes -= payloadBytes;
    this.received += 1;
    if (this.closed) return undefined; // the handler stopped reading: the item is dropped
    if (this.waiter !== undefined) return void this.deliver(value, payloadBytes, this.takeWaiter());
    this.queue.push({ value, bytes: payloadBytes });
    this.queuedBytes += payloadBytes;
    this.owner.inputHeld(payloadBytes);
    return undefined;
  }

  /** STREAM_END from the client; a second one breaks the rules. */
  end(): RpcError | undefined {
    if (this.inputEnded) return new RpcError(RpcCode.INVALID_ARGUMENT, `${this.what}: STREAM_END received twice`);
    this.inputEnded = true;
    if (this.waiter !== undefined && this.queue.length === 0) this.takeWaiter().resolve({ value: undefined, done: true });
    return undefined;
  }

  /** The call ended (cancel, deadline, lost connection, protocol error): the handler's loop throws `err`. */
  fail(err: RpcError): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = err;
    this.dropQueue();
    if (this.waiter !== undefined) this.takeWaiter().reject(err);
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const head = this.queue.shift();
    if (head !== undefined) {
      this.queuedBytes -= head.bytes;
      this.owner.inputHeld(-head.bytes);
    }
    if (head !== undefined) return new Promise((resolve, reject) => this.deliver(head.value, head.bytes, { resolve, reject }));
    if (this.inputEnded || this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== undefined)
      return Promise.reject(new TypeError(`${this.what}: next() called again before the previous one settled`));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The handler left its loop early: no more items are delivered, and the client gets no more credit. */
  return(): Promise<IteratorResult<unknown>> {
    this.closed = true;
    this.dropQueue();
    return Promise.resolve({ value: undefined, done: true });
  }

  private dropQueue(): void {
    this.queue.length = 0;
    if (this.queuedBytes === 0) return;
    this.owner.inputHeld(-this.queuedBytes);
    this.queuedBytes = 0;
  }

  private takeWaiter(): NonNullable<InboundStream['waiter']> {
    const w = this.waiter as NonNullable<InboundStream['waiter']>;
    this.waiter = undefined;
    return w;
  }

  /** Checks the item against the parameter's declared item type, hands it over, and gives credit back. */
  private deliver(value: unknown, bytes: number, to: NonNullable<InboundStream['waiter']>): void {
    this.taken(bytes);
    if (this.check === undefined) return to.resolve({ value, done: false });
    const details: RpcErrorDetail[] = [];
    const n = this.takenTotal;
    const checked = this.check.check(value, `items[${n - 1}]`, details);
    const settle = (v: unknown): void => {
      if (details.length === 0) return to.resolve({ value: v, done: false });
      to.reject(new RpcError(RpcCode.INVALID_ARGUMENT, `invalid stream item for ${this.what}: ${details[0].message}`, { details }));
    };
    if (checked instanceof Promise) checked.then(settle, to.reject);
    else settle(checked);
  }

  private takenTotal = 0;

  /** Credit goes back once half the window was taken, so the client rarely waits and the queue stays bounded. */
  private taken(bytes: number): void {
    this.takenTotal += 1;
    this.takenMessages += 1;
    this.takenBytes += bytes;
    if (this.inputEnded || this.closed || this.failure !== undefined) return;
    if (this.takenMessages >= this.window.messages / 2 || this.takenBytes >= this.window.bytes / 2) {
      this.creditMessages += this.takenMessages;
      this.creditBytes += this.takenBytes;
      this.owner.sendWindow(this.id, this.takenMessages, this.takenBytes);
      this.takenMessages = 0;
      this.takenBytes = 0;
    }
  }
}

/**
 * The argument checker of a client or bidi stream method: argument #0 is the `InboundStream` the server put
 * there (the caller's items, checked one by one as they are taken), or what an interceptor replaced it with;
 * the other arguments came in the REQUEST
 * and are checked as for a unary call.
 */
export function inputStreamChecker(def: MethodDefinition, validatorOptions?: ValidatorOptions): ArgumentChecker {
  const rest = buildArgumentChecker({ ...def, paramTypes: def.paramTypes.slice(1) }, validatorOptions);
  return (args) => {
    const [input, ...others] = args;
    // An interceptor may have wrapped the input: any AsyncIterable will do.
    if (typeof (input as Partial<AsyncIterable<unknown>> | null)?.[Symbol.asyncIterator] !== 'function') {
      throw new RpcError(
        RpcCode.INTERNAL,
        `${def.service}.${def.name}: the first argument of a ${def.options.stream} stream must be its input`,
      );
    }
    const checked = rest(others);
    if (checked instanceof Promise) return checked.then((a) => [input, ...a]);
    return [input, ...checked];
  };
}

/** The check applied to each item: the first parameter's declared type (`params: [T]`), none for `Object`/unknown. */
export function itemCheck(def: MethodDefinition, validatorOptions = DEFAULT_VALIDATOR_OPTIONS): ParamCheck | undefined {
  const type = def.paramTypes[0];
  if (type === undefined || type === Object) return undefined;
  return paramCheck(type, validatorOptions);
}
