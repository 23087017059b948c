import { instanceToPlain } from 'class-transformer';
import { RpcCode, RpcError, toRpcError, type TimeoutKind } from '../errors/rpc-error';
import type { CallTransport, ServerCallInfo } from '../interceptors/interceptor';
import { InterceptedCall } from '../interceptors/server-chain';
import type { RequestMessage } from '../protocol/request';
import { clampDelay, unrefTimer } from '../util/timers';
import type { PeerIdentity } from '../transport/peer-identity';
import type { DeadlineEntry, DeadlineQueue } from '../util/deadline-queue';
import { ServerCallContext } from './call-context';
import type { MethodEntry } from './method-table';

/** What a call needs from its connection. */
export interface CallOwner {
  readonly peer: string;
  /** How the call arrived, for interceptors. */
  readonly transport: CallTransport;
  /** The verified client certificate's identity, when the connection is mTLS. */
  readonly peerIdentity?: PeerIdentity;
  /** Sends the result; returns the code of the error sent instead when it could not (e.g. not encodable). */
  sendResult(id: number, result: unknown): RpcCode | undefined;
  /** `notRun`: the handler was never started (the ERROR frame then says so). */
  sendError(id: number, err: RpcError, notRun?: boolean): void;
  /** The call is over (answered, cancelled or expired): forget it. */
  release(id: number): void;
  /** A handler failed with something other than an RpcError: worth logging, never sent. */
  onHandlerError(err: unknown, call: ServerCall): void;
  /** The connection's deadlines, one timer for all its asynchronous calls (without it, a timer per call). */
  readonly deadlines?: DeadlineQueue;
}

/**
 * One request being served: check arguments, run the handler, answer once. Its deadline is timed only when the
 * handler goes asynchronous, by a place in the connection's deadline queue (or a timer of its own), released
 * whichever way the call ends.
 */
export class ServerCall implements DeadlineEntry {
  private timer: NodeJS.Timeout | undefined;
  expireAtMs = 0;
  prevDeadline: DeadlineEntry | undefined = undefined;
  nextDeadline: DeadlineEntry | undefined = undefined;
  queuedDeadline = false;
  private done = false;
  private readonly ctx: ServerCallContext | undefined;
  private readonly expireAt: number;
  /** Time the call may take, ms: the caller's deadline or the handle timeout, whichever is sooner. */
  private readonly budgetMs: number;
  private readonly timeoutKind: TimeoutKind;
  private readonly startedAt: number;

  constructor(
    private readonly owner: CallOwner,
    readonly id: number,
    private readonly entry: MethodEntry,
    request: RequestMessage,
    now: number,
    handleTimeoutMs: number,
  ) {
    const methodLimit = Math.min(entry.def.options.timeoutMs ?? Infinity, handleTimeoutMs);
    this.timeoutKind = request.timeoutMs <= methodLimit ? 'call' : 'handle';
    this.budgetMs = Math.min(request.timeoutMs, methodLimit);
    this.expireAt = now + this.budgetMs;
    const deadline = now + request.timeoutMs;
    this.startedAt = entry.stats.begin();
    if (entry.def.contextIndex >= 0 || entry.chain !== undefined) {
      this.ctx = new ServerCallContext(entry.def.service, entry.def.name, deadline, request.metadata, owner.peer, owner.peerIdentity);
    }
  }

  /** Answered, cancelled or expired. */
  get finished(): boolean {
    return this.done;
  }

  get service(): string {
    return this.entry.def.service;
  }

  get method(): string {
    return this.entry.def.name;
  }

  start(args: unknown[]): void {
    // Refusals before the handler starts say `notRun`, so a client may send them elsewhere safely.
    if (this.budgetMs <= 0) return this.expire(true);
    if (this.entry.chain !== undefined) return this.intercept(this.entry.chain, args);
    let checked: unknown[] | Promise<unknown[]>;
    try {
      checked = this.entry.checkArgs(args);
    } catch (err) {
      return this.fail(err, true);
    }
    if (checked instanceof Promise) {
      this.armTimer();
      checked.then(
        (a) => this.run(a),
        (e: unknown) => this.fail(e, true),
      );
    } else {
      this.run(checked);
    }
  }

  /** Through the method's interceptors; the innermost checks the arguments and runs the handler. */
  private intercept(chain: (call: ServerCallInfo) => Promise<unknown>, args: unknown[]): void {
    this.armTimer();
    const { def } = this.entry;
    const call = new InterceptedCall(
      def.service,
      def.name,
      def,
      def.options.meta ?? NO_META,
      args,
      this.ctx as ServerCallContext,
      this.owner.transport,
    );
    let result: Promise<unknown>;
    try {
      result = chain(call);
    } catch (err) {
      return this.fail(err); // an interceptor that throws instead of rejecting
    }
    result.then(
      (value) => this.succeed(value),
      (err: unknown) => this.fail(err),
    );
  }

  private run(args: unknown[]): void {
    if (this.done) return;
    let result: unknown;
    try {
      result = this.invoke(args);
    } catch (err) {
      return this.fail(err);
    }
    this.settle(result);
  }

  /** The client cancelled or went away: abort the handler, answer nothing. */
  cancel(reason: string): void {
    if (this.done) return;
    this.end(RpcCode.CANCELLED);
    this.ctx?.abort(new RpcError(RpcCode.CANCELLED, reason));
  }

  /** The call broke a rule (e.g. of its input stream): abort the handler and answer `err`. */
  abort(err: RpcError): void {
    if (this.done) return;
    this.end(err.code);
    this.ctx?.abort(err);
    this.owner.sendError(this.id, err);
  }

  /** Shutdown's grace period is over: abort the handler and tell the client. */
  abortForShutdown(): void {
    if (this.done) return;
    const err = new RpcError(RpcCode.UNAVAILABLE, 'server shut down before the call finished');
    this.end(err.code);
    this.ctx?.abort(err);
    this.owner.sendError(this.id, err);
  }

  private invoke(args: unknown[]): unknown {
    const { handler, instance, def } = this.entry;
    if (def.contextIndex >= 0) args.push(this.ctx);
    return handler.apply(instance, args);
  }

  private settle(result: unknown): void {
    if (result instanceof Promise || isThenable(result)) {
      this.armTimer();
      // A thenable that is not a native Promise (a Knex builder, a Mongoose query) is awaited like one.
      const promise = result instanceof Promise ? result : Promise.resolve(result);
      promise.then(
        (value) => this.succeed(value),
        (err: unknown) => this.fail(err),
      );
    } else {
      this.succeed(result);
    }
  }

  private succeed(value: unknown): void {
    if (this.done) return;
    let plain: unknown;
    try {
      plain = toPlain(value);
    } catch {
      // class-transformer recurses without end on a cycle of class instances: answer, never crash the server
      const err = new RpcError(RpcCode.INTERNAL, 'the result could not be encoded');
      this.end(err.code);
      return this.owner.sendError(this.id, err);
    }
    this.end();
    this.entry.stats.finish(this.startedAt, this.owner.sendResult(this.id, plain));
  }

  private fail(err: unknown, notRun = false): void {
    if (this.done) return;
    const rpcError = toRpcError(err);
    this.end(rpcError.code);
    if (!RpcError.is(err)) this.owner.onHandlerError(err, this);
    this.owner.sendError(this.id, rpcError, notRun);
  }

  /** The deadline (the caller's, or the handle timeout) passed. */
  expire(notRun = false): void {
    if (this.done) return;
    const what = `${this.entry.def.service}.${this.entry.def.name}`;
    const err =
      this.timeoutKind === 'call'
        ? new RpcError(RpcCode.DEADLINE_EXCEEDED, `${what} did not finish before the call's deadline`, { timeout: 'call' })
        : new RpcError(RpcCode.DEADLINE_EXCEEDED, `${what} exceeded the server's handle timeout`, { timeout: 'handle' });
    this.end(err.code);
    this.ctx?.abort(err);
    this.owner.sendError(this.id, err, notRun);
  }

  private armTimer(): void {
    if (this.done || this.queuedDeadline || this.timer !== undefined) return;
    const now = Date.now();
    if (this.owner.deadlines?.add(this, this.expireAt - now, now) === true) return;
    // The closure is made here, not per call: synchronous handlers never need a timer.
    this.timer = unrefTimer(setTimeout(() => this.expire(), clampDelay(this.expireAt - now)));
  }

  /** `code`: the error the call ended with; none for a success, whose figures wait for its encoding. */
  private end(code?: string): void {
    this.done = true;
    if (code !== undefined) this.entry.stats.finish(this.startedAt, code);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queuedDeadline) this.owner.deadlines?.remove(this);
    this.owner.release(this.id);
  }
}

const NO_META: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Class instances go out as plain data, honouring class-transformer's @Exclude/@Expose, also inside arrays and
 * plain objects (a `User[]` must not leak what `User` excludes). Plain data passes through untouched.
 */
function toPlain(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return holdsClassInstance(value, new Set()) ? instanceToPlain(value) : value;
}

/** Whether `value` is, or holds within plain arrays and objects, a class instance (Dates and bytes aside). */
function holdsClassInstance(value: unknown, seen: Set<object>): boolean {
  if (typeof value !== 'object' || value === null || value instanceof Date || ArrayBuffer.isView(value)) return false;
  if (seen.has(value)) return false; // a cycle: the codec refuses it
  seen.add(value);
  if (Array.isArray(value)) return value.some((v) => holdsClassInstance(v, seen));
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) return true;
  for (const key in value) if (holdsClassInstance((value as Record<string, unknown>)[key], seen)) return true;
  return false;
}

/** `then` is looked up only on objects and functions, so plain results pay one type check. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
