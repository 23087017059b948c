import { RpcCode, RpcError } from '../errors/rpc-error';
import { callDeadline, type CallOptions } from '../client/call-options';
import type { ClientNext, ClientStreamResult } from '../interceptors/interceptor';
import type { MethodDefinition, ServiceDefinition } from '../metadata/service-definition';
import { LazyStream } from './lazy-stream';
import { methodKind } from './stream-stats';

/**
 * Checks what a stream call's interceptor chain resolved with: an `AsyncIterable`, else `INTERNAL` naming the
 * call. The chain runs once, on the consumer's first `next()` (so an interceptor that throws stops the stream
 * before anything is sent); leaving the loop early calls `return()` on what it resolved with.
 */
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
export function clusterStreamCall(
  chain: ClientNext,
  def: ServiceDefinition,
  m: MethodDefinition,
  args: unknown[],
  options: CallOptions | undefined,
  defaultTimeoutMs: number,
): AsyncIterable<unknown> {
  return new LazyStream(async () => {
    const deadline = callDeadline(options, defaultTimeoutMs);
    const kind = methodKind((def.target.prototype as Record<string, unknown>)[m.name], m.options.stream);
    const metadata = { ...options?.metadata };
    const call = { service: m.service, method: m.name, definition: m, args, metadata, deadline, signal: options?.signal, kind };
    return streamResultOf(await chain(call), `${m.service}.${m.name}`);
  });
}
