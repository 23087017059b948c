import type { Codec } from '../codec/codec';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { FrameKind } from '../protocol/frame';
import { payloadExceeds } from '../protocol/frame-writer';
import { encodeRequest } from '../protocol/request';
import { MAX_TIMER_MS } from '../util/timers';
import { cancelledError } from '../client/pending-call';
import { OutboundStream, type OutboundOwner } from './outbound-stream';

/** What the sending ends of client and bidi streams need from their connection. */
export interface InputHost {
  readonly remote: string;
  readonly codec: Codec;
  /** The largest payload the server accepts. */
  serverMaxFrameBytes(): number;
  /** False once the connection closed: nothing more is written. */
  writable(): boolean;
  write(kind: FrameKind, id: number, payload: string | Uint8Array | undefined): void;
  /** The call or stream of `id` fails on this side (its input broke): cancel it on the server, fail it with `err`. */
  failCall(id: number, err: RpcError): void;
  /** A WINDOW for an id that sends no items: a unary call or server stream made by name to a client or bidi stream. */
  strayWindow(id: number): void;
}

/** A client or bidi stream's REQUEST, checked and encoded, and the time left before its deadline. */
export interface OpenedInput {
  readonly timeoutMs: number;
  readonly payload: string | Uint8Array;
}

/**
 * The sending ends of one connection's client and bidi streams, by id: each pulls its caller's iterable as
 * the server grants credit (WINDOW frames), and is stopped when its call ends, however it ends.
 */
export class InputStreams implements OutboundOwner {
  private readonly outbound = new Map<number, OutboundStream>();

  constructor(private readonly host: InputHost) {}

  /**
   * Checks what opening a client or bidi stream needs and encodes its REQUEST (the other arguments); throws
   * the RpcError that refuses it before anything is sent.
   */
  encodeOpen(
    what: string,
    service: string,
    method: string,
    args: unknown[],
    deadline: number,
    signal: AbortSignal | undefined,
    metadata: Record<string, string> | undefined,
  ): OpenedInput {
    if (signal?.aborted) throw cancelledError(what, signal, false);
    const timeoutMs = Math.min(deadline - Date.now(), MAX_TIMER_MS);
    if (!(timeoutMs > 0))
      throw new RpcError(RpcCode.DEADLINE_EXCEEDED, `${what}: deadline exceeded before sending`, { timeout: 'call', mayHaveRun: false });
    let payload: string | Uint8Array;
    try {
      payload = this.host.codec.encode(encodeRequest(service, method, args, Math.ceil(timeoutMs), metadata));
    } catch (err) {
      throw new RpcError(RpcCode.INVALID_ARGUMENT, `${what}: arguments could not be encoded: ${(err as Error).message}`, {
        mayHaveRun: false,
      });
    }
    if (payloadExceeds(payload, this.host.serverMaxFrameBytes())) {
      const bytes = byteLength(payload);
      throw new RpcError(
        RpcCode.RESOURCE_EXHAUSTED,
        `${what}: request of ${bytes} bytes exceeds the server's frame limit of ${this.host.serverMaxFrameBytes()} bytes`,
        { mayHaveRun: false },
      );
    }
    return { timeoutMs, payload };
  }

  /** The sending end of call `id`; throws `INVALID_ARGUMENT` (nothing sent) when `source` is not iterable. */
  add(id: number, what: string, source: unknown): OutboundStream {
    const out = new OutboundStream(this, id, what, source);
    this.outbound.set(id, out);
    return out;
  }

  /** Call `id` ended: pull its iterable no more and close it. */
  stop(id: number): void {
    const out = this.outbound.get(id);
    if (out === undefined) return;
    this.outbound.delete(id);
    out.stop();
  }

  stopAll(): void {
    for (const id of [...this.outbound.keys()]) this.stop(id);
  }

  /** A WINDOW from the server: credit for a client or bidi stream's items. */
  onWindow(id: number, payload: Buffer): void {
    const out = this.outbound.get(id);
    if (out === undefined) return this.host.strayWindow(id);
    let value: unknown;
    try {
      value = this.host.codec.decode(payload);
    } catch {
      value = undefined;
    }
    if (!out.grant(value)) this.failInput(id, new RpcError(RpcCode.INTERNAL, `${out.what}: malformed WINDOW payload from the server`));
  }

  sendInputItem(id: number, item: unknown): number | RpcError {
    const what = this.outbound.get(id)?.what ?? `stream ${id}`;
    let payload: string | Uint8Array;
    try {
      payload = this.host.codec.encode(item);
    } catch (err) {
      return new RpcError(RpcCode.INVALID_ARGUMENT, `${what}: a stream item could not be encoded: ${(err as Error).message}`);
    }
    const limit = this.host.serverMaxFrameBytes();
    if (payloadExceeds(payload, limit)) {
      const bytes = byteLength(payload);
      return new RpcError(
        RpcCode.RESOURCE_EXHAUSTED,
        `${what}: a stream item of ${bytes} bytes exceeds the server's frame limit of ${limit} bytes`,
      );
    }
    if (this.host.writable()) this.host.write(FrameKind.STREAM_ITEM, id, payload);
    return byteLength(payload);
  }

  sendInputEnd(id: number): void {
    if (this.host.writable()) this.host.write(FrameKind.STREAM_END, id, undefined);
  }

  /** The caller's iterable threw (or an item could not go): cancel on the server, fail the call with `err`. */
  failInput(id: number, err: RpcError): void {
    this.stop(id);
    this.host.failCall(id, err);
  }
}

function byteLength(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
}
