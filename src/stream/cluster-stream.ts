import type { CallOptions } from '../client/call-options';
import type { RpcClient } from '../client/rpc-client';
import { RpcCode, RpcError } from '../errors/rpc-error';

/** The endpoint a cluster stream is pinned to. */
export interface StreamTarget {
  readonly id: string;
  readonly client: RpcClient;
}

/**
 * A cluster stream, pinned to the one endpoint the balancer (or the shard key) picked when it opened. It is never
 * failed over mid-stream: items already delivered cannot be taken back, so a lost endpoint ends it with
 * `UNAVAILABLE` saying how many items arrived, and the caller decides whether to open it again.
 */
export function pinnedStream(
  target: StreamTarget | undefined,
  service: string,
  method: string,
  args: unknown[],
  options: CallOptions | undefined,
): AsyncGenerator<unknown, void, undefined> {
  return pinnedItems(target, `${service}.${method}`, (client) => client.stream(service, method, args, options));
}

/**
 * A cluster client stream, pinned like {@link pinnedStream}: the items go to the one endpoint picked as it opens,
 * and a lost endpoint fails the call with `UNAVAILABLE` rather than sending it elsewhere (the items already
 * taken from the caller's iterable cannot be taken again).
 */
export async function pinnedUpload(
  target: StreamTarget | undefined,
  service: string,
  method: string,
  args: unknown[],
  options: CallOptions | undefined,
): Promise<unknown> {
  const what = `${service}.${method}`;
  if (target === undefined) throw new RpcError(RpcCode.UNAVAILABLE, `${what}: no endpoint available for the stream`, { mayHaveRun: false });
  try {
    return await target.client.clientStream(service, method, args, options);
  } catch (err) {
    if (!RpcError.is(err) || err.code !== RpcCode.UNAVAILABLE) throw err;
    const message = `${what}: the client stream to ${target.id} failed (${err.message}); streams stay on one endpoint and are not failed over`;
    throw new RpcError(RpcCode.UNAVAILABLE, message, { cause: err, mayHaveRun: err.mayHaveRun });
  }
}

/** A cluster bidi stream, pinned like {@link pinnedStream}. */
export function pinnedBidi(
  target: StreamTarget | undefined,
  service: string,
  method: string,
  args: unknown[],
  options: CallOptions | undefined,
): AsyncGenerator<unknown, void, undefined> {
  return pinnedItems(target, `${service}.${method}`, (client) => client.bidiStream(service, method, args, options));
}

/** The items of a stream opened on `target` by `open`, with a lost endpoint reported as described above. */
async function* pinnedItems(
  target: StreamTarget | undefined,
  what: string,
  open: (client: RpcClient) => AsyncIterable<unknown>,
): AsyncGenerator<unknown, void, undefined> {
  if (target === undefined) throw new RpcError(RpcCode.UNAVAILABLE, `${what}: no endpoint available for the stream`, { mayHaveRun: false });
  let delivered = 0;
  try {
    for await (const item of open(target.client)) {
      delivered++;
      yield item;
    }
  } catch (err) {
    if (!RpcError.is(err) || err.code !== RpcCode.UNAVAILABLE) throw err;
    const message = `${what}: the stream from ${target.id} failed after ${delivered} items (${err.message}); streams stay on one endpoint and are not failed over`;
    throw new RpcError(RpcCode.UNAVAILABLE, message, { cause: err, mayHaveRun: delivered > 0 || err.mayHaveRun });
  }
}
