import type { MethodDefinition } from '../metadata/service-definition';
import type { CallContext } from '../server/call-context';
import type { MethodKind } from '../stream/stream-stats';

/** How a server call reached the server. */
export type CallTransport = 'tcp' | 'http' | 'tunnel';

/**
 * One call as a server interceptor sees it. `args` are the decoded wire arguments, before they are checked
 * and converted (interceptors run first, so an unauthenticated caller never learns what validation says);
 * an interceptor may replace them.
 */
export interface ServerCallInfo {
  readonly service: string;
  readonly method: string;
  readonly definition: MethodDefinition;
  /** The method's `@Method({ meta })`, `{}` when none: open data for interceptors (roles, scopes, rate classes). */
  readonly meta: Readonly<Record<string, unknown>>;
  args: unknown[];
  /** The handler's context: metadata, peer, peer identity, deadline, signal. */
  readonly context: CallContext;
  readonly transport: CallTransport;
  /** Who the caller is, once an auth interceptor has said so; handlers read it as `ctx.principal`. */
  principal: unknown;
}

/** Runs the rest of the chain (and in the end the handler); resolves with the handler's result. */
export type ServerNext = (call: ServerCallInfo) => Promise<unknown>;

/**
 * A server interceptor, Connect-ES style: given the rest of the chain, returns the function that runs this
 * layer. It may read or change the call, throw (an `RpcError` keeps its code; anything else becomes
 * `INTERNAL`), short-circuit by not calling `next`, or map what `next` resolves or rejects with.
 * Called once per method when the method table is built, never per call.
 */
export type ServerInterceptor = (next: ServerNext) => ServerNext;

/** One call as a client interceptor sees it. `metadata` is this call's own copy: add credentials or trace ids to it. */
export interface ClientCallInfo {
  readonly service: string;
  readonly method: string;
  /** Set for calls made through a typed proxy; undefined for `client.call(service, method, args)`. */
  readonly definition: MethodDefinition | undefined;
  args: unknown[];
  metadata: Record<string, string>;
  /** Absolute deadline, epoch ms. */
  deadline: number;
  readonly signal: AbortSignal | undefined;
  /**
   * `unary` for a call with one answer; `server`, `client` or `bidi` for a stream. For a server or bidi stream
   * `next` resolves with a {@link ClientStreamResult} once the stream is open; for a client stream (whose
   * input is `args[0]`) with its one result.
   */
  readonly kind: MethodKind;
}

/**
 * What `next` resolves with for a server or bidi stream call: the answers, as they arrive. An
 * interceptor may return another `AsyncIterable` that wraps it to observe or transform the items; it must
 * end the one it was given (`for await`, or `return()` on its iterator) so that leaving early cancels the
 * stream on the server.
 */
export type ClientStreamResult = AsyncIterable<unknown>;

/**
 * Sends the call (through the rest of the chain); resolves with the result (a {@link ClientStreamResult} for a
 * stream call), rejects with an `RpcError`.
 */
export type ClientNext = (call: ClientCallInfo) => Promise<unknown>;

/**
 * A client interceptor: same onion shape as the server's. Called once when the client is made; the function it
 * returns runs once per unary call and once per stream, as the stream opens.
 */
export type ClientInterceptor = (next: ClientNext) => ClientNext;

/** Wraps `inner` in `interceptors`, the first one outermost (it sees the call first and the result last). */
export function compose<N>(interceptors: readonly ((next: N) => N)[], inner: N): N {
  let next = inner;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i](next);
  return next;
}

/** Checks an `interceptors` option: an array of functions, else a `RangeError` naming the option. */
export function checkInterceptors<T>(value: readonly T[] | undefined, option: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RangeError(`${option} must be an array of interceptor functions, got ${typeof value}`);
  value.forEach((i, n) => {
    if (typeof i !== 'function')
      throw new RangeError(
        `${option}[${n}] must be an interceptor function (next) => (call) => result, got ${i === null ? 'null' : typeof i}`,
      );
  });
  return value;
}
