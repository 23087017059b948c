import type { CallOptions } from '../client/call-options';
import { createProxy, type ClientArgs, type Invoker } from '../client/proxy';
import type { RpcError } from '../errors/rpc-error';
import type { EndpointState } from './endpoint-state';
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

/** Calls every target; in `first-error` mode the first failure aborts the others and rejects. */
export async function runBroadcast(mode: BroadcastMode, targets: EndpointState[], service: string, method: string, args: unknown[], options: CallOptions): Promise<unknown> {
  if (mode === 'settled') {
    return Promise.all(
      targets.map((t) =>
        t.call(service, method, args, options).then(
          (value) => ({ endpoint: t.endpoint.id, ok: true as const, value }),
          (error: RpcError) => ({ endpoint: t.endpoint.id, ok: false as const, error }),
        ),
      ),
    );
  }
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await Promise.all(
      targets.map((t) =>
        t.call(service, method, args, { ...options, signal: controller.signal }).then(
          (value) => ({ endpoint: t.endpoint.id, value }),
          (err: unknown) => {
            controller.abort(err);
            throw err;
          },
        ),
      ),
    );
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
  }
}
