import type { CallOptions } from '../client/call-options';
import { createProxy, type ClientArgs, type Invoker } from '../client/proxy';
import type { RpcError } from '../errors/rpc-error';
import type { AnyClass } from '../metadata/metadata-storage';
import type { ServiceDefinition } from '../metadata/service-definition';

export type BroadcastMode = 'first-error' | 'settled';

export type BroadcastOutcome<R> = { endpoint: string; ok: true; value: R } | { endpoint: string; ok: false; error: RpcError };

type Methods<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] };

/** Each method resolves with every endpoint's answer, or rejects with the first error (which cancels the rest). */
export type BroadcastProxy<T> = {
  readonly [K in keyof Methods<T>]: Methods<T>[K] extends (...args: infer A) => infer R
    ? (...args: ClientArgs<A>) => Promise<{ endpoint: string; value: Awaited<R> }[]>
    : never;
};

/** Each method resolves with every endpoint's result or error. */
export type SettledBroadcastProxy<T> = {
  readonly [K in keyof Methods<T>]: Methods<T>[K] extends (...args: infer A) => infer R
    ? (...args: ClientArgs<A>) => Promise<BroadcastOutcome<Awaited<R>>[]>
    : never;
};

export function broadcastProxy(
  run: (def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined) => Promise<unknown>,
  service: AnyClass,
  options: CallOptions | undefined,
): unknown {
  const invoker: Invoker = { invoke: run };
  return createProxy(invoker, service, options);
}
