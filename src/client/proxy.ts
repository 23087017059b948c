import type { AnyClass } from '../metadata/metadata-storage';
import type { ServiceDefinition } from '../metadata/service-definition';
import { scanService } from '../metadata/service-scanner';
import type { CallContext } from '../server/call-context';
import { mergeOptions, type CallOptions } from './call-options';

/** Anything that can carry a call: the single-server client, later the cluster client. */
export interface Invoker {
  invoke(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown>;
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

/** The client's view of a service class: every method returns a Promise of its (awaited) result. */
export type ServiceProxy<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: ClientArgs<A>) => Promise<Awaited<R>>
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
  for (const name of state.def.methods.keys()) {
    proxy[name] = (...args: unknown[]) => state.invoker.invoke(state.def, name, args, state.options);
  }
  Object.defineProperty(proxy, STATE, { value: state });
  return Object.freeze(proxy) as ServiceProxy<T>;
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
