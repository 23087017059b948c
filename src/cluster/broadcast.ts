import type { CallOptions } from '../client/call-options';
import { createProxy, type ClientArgs, type Invoker } from '../client/proxy';
import { RpcCode, RpcError } from '../errors/rpc-error';
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
  const invoker: Invoker = {
    invoke: run,
    streamMethod: (def, method) => {
      throw new RpcError(RpcCode.UNIMPLEMENTED, `${def.name}.${method} is a server stream: streams cannot be broadcast`, {
        mayHaveRun: false,
      });
    },
    clientStreamMethod: (def, method) =>
      Promise.reject(
        new RpcError(RpcCode.UNIMPLEMENTED, `${def.name}.${method} is a client stream: streams cannot be broadcast`, { mayHaveRun: false }),
      ),
    bidiStreamMethod: (def, method) => {
      throw new RpcError(RpcCode.UNIMPLEMENTED, `${def.name}.${method} is a bidi stream: streams cannot be broadcast`, {
        mayHaveRun: false,
      });
    },
  };
  return createProxy(invoker, service, options);
}

/**
 * Calls every target; in `first-error` mode the first failure aborts the others and rejects. A signal that
 * is already aborted rejects at once with `CANCELLED` (nothing is sent); no target rejects with `UNAVAILABLE`.
 */
export async function runBroadcast(
  mode: BroadcastMode,
  targets: EndpointState[],
  service: string,
  method: string,
  args: unknown[],
  options: CallOptions,
): Promise<unknown> {
  if (options.signal?.aborted)
    throw new RpcError(RpcCode.CANCELLED, `${service}.${method}: broadcast cancelled by the caller before it started`, {
      mayHaveRun: false,
      cause: options.signal.reason,
    });
  if (targets.length === 0)
    throw new RpcError(RpcCode.UNAVAILABLE, `${service}.${method}: broadcast over zero endpoints`, { mayHaveRun: false });
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
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  return Promise.all(
    targets.map((t) =>
      t.call(service, method, args, { ...options, signal }).then(
        (value) => ({ endpoint: t.endpoint.id, value }),
        (err: unknown) => {
          controller.abort(err);
          throw err;
        },
      ),
    ),
  );
}
