import { RpcCode, RpcError } from '../errors/rpc-error';
import { callDeadline, type CallOptions } from '../client/call-options';
import type { ClientCallInfo, ClientNext, ClientStreamResult } from '../interceptors/interceptor';
import type { MethodDefinition, ServiceDefinition } from '../metadata/service-definition';
import { streamKind } from './stream-stats';

/**
 * A stream call through a client's interceptors: the chain runs once, when the consumer first asks for an item
 * (so an interceptor that throws stops the stream before anything is sent), and what it resolves with is
 * streamed. Leaving the loop early calls `return()` on that iterable, which reaches the stream underneath.
 */
export async function* interceptedStream(chain: ClientNext, call: ClientCallInfo): AsyncGenerator<unknown, void, undefined> {
  const result = await chain(call);
  yield* streamResultOf(result, `${call.service}.${call.method}`);
}

/** Checks what a stream call's chain resolved with: an `AsyncIterable`, else `INTERNAL` naming the call. */
export function streamResultOf(result: unknown, what: string): ClientStreamResult {
  const source = result as Partial<AsyncIterable<unknown>> | null;
  if (source === null || typeof source !== 'object' || typeof source[Symbol.asyncIterator] !== 'function') {
    throw new RpcError(
      RpcCode.INTERNAL,
      `${what} is a stream: the client interceptors must resolve with an AsyncIterable, got ${source === null ? 'null' : typeof source}`,
      { mayHaveRun: false },
    );
  }
  return source as ClientStreamResult;
}

/** A cluster proxy's stream through the cluster's interceptors, which run once, outside endpoint picking. */
export async function* clusterStreamCall(
  chain: ClientNext,
  def: ServiceDefinition,
  m: MethodDefinition,
  args: unknown[],
  options: CallOptions | undefined,
  defaultTimeoutMs: number,
): AsyncGenerator<unknown, void, undefined> {
  const deadline = callDeadline(options, defaultTimeoutMs);
  const kind = streamKind((def.target.prototype as Record<string, unknown>)[m.name], m.options.stream);
  const metadata = { ...options?.metadata };
  yield* interceptedStream(chain, {
    service: m.service,
    method: m.name,
    definition: m,
    args,
    metadata,
    deadline,
    signal: options?.signal,
    kind,
  });
}
