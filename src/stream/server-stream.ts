import { RpcCode, RpcError, toRpcError } from '../errors/rpc-error';
import type { RequestMessage } from '../protocol/request';
import { ServerCallContext } from '../server/call-context';
import type { CallTransport } from '../interceptors/interceptor';
import { InterceptedCall } from '../interceptors/server-chain';
import type { PeerIdentity } from '../transport/peer-identity';
import type { MethodEntry } from '../server/method-table';
import { clampDelay, unrefTimer } from '../util/timers';
import { Credit } from './stream-window';

/** What a server stream needs from its connection. */
export interface StreamOwner {
  readonly peer: string;
  readonly transport: CallTransport;
  readonly peerIdentity?: PeerIdentity;
  /** Encodes and queues one item; returns its payload bytes, or an RpcError when it cannot go (not encodable, too big). */
  sendItem(id: number, item: unknown): number | RpcError;
  sendEnd(id: number): void;
  sendError(id: number, err: RpcError, notRun?: boolean): void;
  release(id: number): void;
  onHandlerError(err: unknown, service: string, method: string): void;
}

/**
 * One server stream: pulls the handler's async iterable only while the client's window has credit, so a slow
 * consumer stops the generator instead of growing a buffer. The deadline covers the whole stream; a cancel,
 * the deadline or an error stops the generator with `return()` (its `finally` runs) and aborts `ctx.signal`.
 */
export class ServerStream {
  private readonly credit = new Credit();
  private readonly ctx: ServerCallContext;
  private iterator: AsyncIterator<unknown> | undefined;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  private readonly startedAt: number;
  /** Items sent so far. */
  sent = 0;

  constructor(
    private readonly owner: StreamOwner,
    readonly id: number,
    private readonly entry: MethodEntry,
    request: RequestMessage,
    handleTimeoutMs: number,
  ) {
    const now = Date.now();
    const deadline = now + request.timeoutMs;
    this.ctx = new ServerCallContext(entry.def.service, entry.def.name, deadline, request.metadata, owner.peer, owner.peerIdentity);
    this.startedAt = entry.stats.begin();
    entry.stats.streams.begin();
    const budgetMs = Math.min(request.timeoutMs, entry.def.options.timeoutMs ?? Infinity, handleTimeoutMs);
    const kind = request.timeoutMs <= budgetMs ? 'call' : 'handle';
    this.timer = unrefTimer(setTimeout(() => this.expire(kind), clampDelay(budgetMs)));
  }

  /** Checks the arguments, starts the handler and pumps it. */
  start(args: unknown[]): void {
    void this.run(args);
  }

  /** A WINDOW frame: more credit; a malformed grant is a protocol error on this stream. */
  grant(payload: unknown): void {
    if (this.done) return;
    if (!this.credit.grant(payload))
      return this.finish(new RpcError(RpcCode.INVALID_ARGUMENT, 'malformed WINDOW payload: expected [messages, bytes]'));
    this.wake();
  }

  /** The client cancelled (CANCEL frame, left its loop early) or went away: stop the generator, answer nothing. */
  cancel(reason: string): void {
    this.stop(new RpcError(RpcCode.CANCELLED, reason), false);
  }

  /** The call broke a rule (e.g. of its input stream): stop the generator and answer `err`. */
  abort(err: RpcError): void {
    this.stop(err, true);
  }

  get service(): string {
    return this.entry.def.service;
  }

  get method(): string {
    return this.entry.def.name;
  }

  abortForShutdown(): void {
    this.stop(new RpcError(RpcCode.UNAVAILABLE, `server shut down after ${this.sent} items of the stream`), true);
  }

  private async run(args: unknown[]): Promise<void> {
    try {
      const source = await this.open(args);
      if (this.done) return;
      this.iterator = iteratorOf(source);
      await this.pump(this.iterator);
    } catch (err) {
      if (!this.done && !RpcError.is(err)) this.owner.onHandlerError(err, this.entry.def.service, this.entry.def.name);
      this.finish(toRpcError(err));
    }
  }

  /**
   * The handler's iterable, through the method's interceptors when it has any: they run once as the stream
   * opens (authentication refuses it there), and what they return is streamed, so they may wrap the iterable.
   */
  private async open(args: unknown[]): Promise<unknown> {
    const { def, chain } = this.entry;
    if (chain !== undefined) {
      return chain(new InterceptedCall(def.service, def.name, def, def.options.meta ?? {}, args, this.ctx, this.owner.transport));
    }
    const checked = await this.entry.checkArgs(args);
    if (def.contextIndex >= 0) checked.push(this.ctx);
    return this.entry.handler.apply(this.entry.instance, checked);
  }

  private async pump(it: AsyncIterator<unknown>): Promise<void> {
    for (;;) {
      if (!this.credit.open) await new Promise<void>((resolve) => (this.wakeUp = resolve));
      if (this.done) return;
      const next = await it.next();
      if (this.done) return;
      if (next.done === true) return this.finish(undefined);
      const bytes = this.owner.sendItem(this.id, next.value);
      if (bytes instanceof RpcError) return this.finish(bytes);
      this.sent += 1;
      this.entry.stats.streams.sent();
      this.credit.spend(bytes);
    }
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  private expire(kind: 'call' | 'handle'): void {
    const what = `${this.entry.def.service}.${this.entry.def.name}`;
    const message = kind === 'call' ? `${what} did not finish before the call's deadline` : `${what} exceeded the server's handle timeout`;
    this.stop(new RpcError(RpcCode.DEADLINE_EXCEEDED, `${message} (${this.sent} items sent)`, { timeout: kind }), true);
  }

  /** Ends the stream from outside the generator: abort the signal, tell the client if asked, stop the generator. */
  private stop(err: RpcError, tell: boolean): void {
    if (this.done) return;
    this.finish(tell ? err : undefined, err);
    this.ctx.abort(err);
    this.wake();
    // return() waits for a generator that is running to reach its next yield: its finally runs then.
    this.iterator?.return?.().catch(() => undefined);
  }

  /** `err`: send it as the stream's end; none: a clean end (or, with `silent`, nothing at all). */
  private finish(err: RpcError | undefined, silent?: RpcError): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.owner.release(this.id);
    const code = err?.code ?? silent?.code;
    this.entry.stats.finish(this.startedAt, code);
    this.entry.stats.streams.end();
    if (err !== undefined) this.owner.sendError(this.id, err);
    else if (silent === undefined) this.owner.sendEnd(this.id);
    if (err !== undefined && silent === undefined) this.iterator?.return?.().catch(() => undefined);
  }
}

function iteratorOf(result: unknown): AsyncIterator<unknown> {
  const source = result as Partial<AsyncIterable<unknown>> | null;
  if (source === null || typeof source !== 'object' || typeof source[Symbol.asyncIterator] !== 'function') {
    throw new RpcError(RpcCode.INTERNAL, 'a streaming method must return an AsyncIterable');
  }
  return (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
}
