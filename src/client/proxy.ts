import type { AnyClass } from '../metadata/metadata-storage';
import type { ServiceDefinition } from '../metadata/service-definition';
import { scanService } from '../metadata/service-scanner';
import type { CallContext } from '../server/call-context';
import { mergeOptions, type CallOptions } from './call-options';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { streamKindOf, type StreamKind } from '../stream/stream-kind';

/** Anything that can carry a call: the single-server client, later the cluster client. */
export interface Invoker {
  invoke(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown>;
  /** Opens a server stream; an invoker without it refuses streaming methods with `UNIMPLEMENTED`. */
  streamMethod?(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): AsyncIterable<unknown>;
  /** Opens a client stream (`args[0]` holds the items); an invoker without it refuses client streams with `UNIMPLEMENTED`. */
  clientStreamMethod?(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown>;
  /** Opens a bidi stream (`args[0]` holds the items); an invoker without it refuses bidi streams with `UNIMPLEMENTED`. */
  bidiStreamMethod?(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): AsyncIterable<unknown>;
}

type IsAny<T> = 0 extends 1 & T ? true : false;

/** Drops a trailing `CallContext` parameter: the server supplies it, callers never do. */
export type ClientArgs<A extends unknown[]> = A extends [...infer Init, infer Last]
  ? IsAny<Last> extends true
    ? A
    : [Last] extends [CallContext]
      ? Init
      : A
  : A;

/** A first parameter typed `AsyncIterable<T>` (the input of a client or bidi stream) also takes any `Iterable<T>`. */
export type StreamArgs<A extends unknown[]> = A extends [infer First, ...infer Rest]
  ? IsAny<First> extends true
    ? A
    : [First] extends [AsyncIterable<infer Item>]
      ? [AsyncIterable<Item> | Iterable<Item>, ...Rest]
      : A
  : A;

/**
 * The client's view of a service class: every method returns a Promise of its (awaited) result, and a
 * streaming method (one returning an `AsyncIterable`, such as an `async *` method) an `AsyncIterable` of its items;
 * a first parameter typed `AsyncIterable<T>` (client and bidi streams) takes an `AsyncIterable<T>` or `Iterable<T>`.
 */
export type ServiceProxy<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? IsAny<R> extends true
      ? (...args: StreamArgs<ClientArgs<A>>) => Promise<Awaited<R>>
      : R extends AsyncIterable<infer Item>
        ? (...args: StreamArgs<ClientArgs<A>>) => AsyncIterable<Item>
        : (...args: StreamArgs<ClientArgs<A>>) => Promise<Awaited<R>>
    : never;
};

const STATE = Symbol('myrpc.proxy');

interface ProxyState {
  invoker: Invoker;
  def: ServiceDefinition;
  options: CallOptions | undefined;
}

/**
 * A plain object with one function per `@Method` (no JS Proxy: the method list is known from the scan, so
 * property access stays fast and `then` is simply absent, making `await proxy` safe). Class members that are
 * not `@Method`s throw a clear TypeError when called.
 */
export function createProxy<T>(invoker: Invoker, target: AnyClass, options?: CallOptions): ServiceProxy<T> {
  return build<T>({ invoker, def: scanService(target), options });
}

function build<T>(state: ProxyState): ServiceProxy<T> {
  const proxy: Record<string | symbol, unknown> = Object.create(null) as Record<string | symbol, unknown>;
  for (const name of plainMethodNames(state.def.target)) {
    proxy[name] = () => {
      throw new TypeError(`${state.def.name}.${name} is not an @Method, so it cannot be called remotely`);
    };
  }
  for (const [name, m] of state.def.methods) {
    const handler = (state.def.target.prototype as Record<string, unknown>)[name];
    proxy[name] = methodOf(state, name, streamKindOf(handler, m.options.stream));
  }
  Object.defineProperty(proxy, STATE, { value: state });
  return Object.freeze(proxy) as ServiceProxy<T>;
}

function methodOf(state: ProxyState, name: string, kind: StreamKind | undefined): (...args: unknown[]) => unknown {
  const { invoker, def } = state;
  switch (kind) {
    case undefined:
      return (...args) => invoker.invoke(def, name, args, state.options);
    case 'server':
      return (...args) => openStream(state, name, args);
    case 'client':
      return (...args) =>
        invoker.clientStreamMethod === undefined
          ? Promise.reject(cannotCarry(def.name, name, kind))
          : invoker.clientStreamMethod(def, name, args, state.options);
    case 'bidi':
      return (...args) => {
        if (invoker.bidiStreamMethod === undefined) throw cannotCarry(def.name, name, kind);
        return invoker.bidiStreamMethod(def, name, args, state.options);
      };
  }
}

function cannotCarry(service: string, method: string, kind: StreamKind): RpcError {
  return new RpcError(RpcCode.UNIMPLEMENTED, `${service}.${method} is a ${kind} stream; this client does not carry ${kind} streams`, {
    mayHaveRun: false,
  });
}

function openStream(state: ProxyState, name: string, args: unknown[]): AsyncIterable<unknown> {
  if (state.invoker.streamMethod === undefined) {
    throw new RpcError(
      RpcCode.UNIMPLEMENTED,
      `${state.def.name}.${name} is a server stream; this client does not carry streams (use RpcClient)`,
      { mayHaveRun: false },
    );
  }
  return state.invoker.streamMethod(state.def, name, args, state.options);
}

function plainMethodNames(target: AnyClass): string[] {
  const names: string[] = [];
  for (let p = target.prototype as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const key of Object.getOwnPropertyNames(p)) if (key !== 'constructor') names.push(key);
  }
  return names;
}

/** A proxy whose calls all carry `options` (merged over the proxy's own). */
export function withOptions<P extends object>(proxy: P, options: CallOptions): P {
  const state = (proxy as Record<symbol, ProxyState | undefined>)[STATE];
  if (!state) throw new TypeError('withOptions() takes a proxy made by client.proxy()');
  return build({ ...state, options: mergeOptions(state.options, options) }) as unknown as P;
}
