import type { Codec } from '../codec/codec';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { FrameKind } from '../protocol/frame';
import type { MethodEntry } from '../server/method-table';
import { InboundStream, type InboundOwner } from './inbound-stream';
import type { StreamWindow } from './stream-window';
import type { StreamStats } from './stream-stats';

/** How many ended input streams a connection remembers, so that items still in flight for them are dropped quietly. */
const REMEMBERED_ENDED = 256;

/**
 * The input streams of one server connection (client and bidi calls), by request id. Items that were in
 * flight when a call ended are dropped without a word; items for an id that never had an input are an error.
 */
export class InboundTable {
  private readonly inputs = new Map<number, InboundStream>();
  private readonly ended = new Set<number>();
  /** Each input's method figures; `opened`: this table counts the stream as open (a client stream; a bidi one is a ServerStream's). */
  private readonly figures = new Map<number, { stats: StreamStats; opened: boolean }>();

  constructor(
    private readonly owner: InboundOwner,
    private readonly window: StreamWindow,
  ) {}

  /** A client or bidi call opens: its input, with the initial window granted at once. */
  open(id: number, entry: MethodEntry): InboundStream {
    this.ended.delete(id);
    const input = new InboundStream(this.owner, id, `${entry.def.service}.${entry.def.name}`, this.window, entry.itemCheck);
    this.inputs.set(id, input);
    const opened = !entry.stream;
    if (opened) entry.stats.streams.begin();
    this.figures.set(id, { stats: entry.stats.streams, opened });
    input.grantInitial();
    return input;
  }

  /** The call ended: a handler still reading its input gets `err` (default `CANCELLED`). */
  release(id: number, err?: RpcError): void {
    const input = this.inputs.get(id);
    if (input === undefined) return;
    this.inputs.delete(id);
    const figures = this.figures.get(id);
    this.figures.delete(id);
    if (figures?.opened) figures.stats.end();
    input.fail(err ?? new RpcError(RpcCode.CANCELLED, `${input.what}: the call ended`));
    this.ended.add(id);
    if (this.ended.size > REMEMBERED_ENDED) this.ended.delete(this.ended.values().next().value as number);
  }

  /** The connection is gone: every handler still reading gets `err`. */
  failAll(err: RpcError): void {
    for (const id of [...this.inputs.keys()]) this.release(id, err);
  }

  /**
   * A STREAM_ITEM or STREAM_END from the client. Returns undefined when it was taken (or dropped as late), or
   * the error that ends the call (or answers the id) when the frame breaks the rules.
   */
  onFrame(kind: FrameKind, id: number, payload: Buffer, codec: Codec): RpcError | undefined {
    const input = this.inputs.get(id);
    const name = kind === FrameKind.STREAM_ITEM ? 'STREAM_ITEM' : 'STREAM_END';
    if (input === undefined) {
      if (this.ended.has(id)) return undefined; // sent before the client learnt that the call ended
      return new RpcError(RpcCode.INVALID_ARGUMENT, `${name} for request id ${id}, which is not an open client stream`);
    }
    if (kind === FrameKind.STREAM_END) return input.end();
    let value: unknown;
    try {
      value = codec.decode(payload);
    } catch (err) {
      return new RpcError(RpcCode.INVALID_ARGUMENT, `${input.what}: malformed stream item payload: ${(err as Error).message}`);
    }
    const err = input.push(value, payload.length);
    if (err === undefined) this.figures.get(id)?.stats.received();
    return err;
  }
}
