import { FRAME_HEADER_BYTES, isKnownKind, type FrameKind } from './frame';

const EMPTY = Buffer.alloc(0);

/** Why the byte stream can no longer be trusted; the connection must close. */
export class FrameError extends Error {
  constructor(
    readonly reason: 'FRAME_TOO_LARGE' | 'UNKNOWN_KIND',
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

export interface FrameSink {
  /** Called once per whole frame. `payload` may be a view into a received chunk: decode it before returning. */
  onFrame(kind: FrameKind, id: number, payload: Buffer): void;
}

/**
 * A state machine over a list of received chunks (after ws's Receiver). `consume(n)` slices without copying
 * when the bytes lie in one chunk. A frame over the limit is refused from its header, before its payload
 * is buffered.
 */
export class FrameReader {
  private readonly chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already consumed: reading past them by offset saves a view per header and payload. */
  private offset = 0;
  private buffered = 0;
  private state: 'header' | 'payload' | 'failed' = 'header';
  private kind: FrameKind = 1;
  private id = 0;
  private payloadBytes = 0;
  private paused = false;
  /** With transient chunks: the payload of the frame in progress, gathered here as it arrives (each byte copied once). */
  private assembly: Buffer | undefined;
  private assembled = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameBytes: number,
    /**
     * Pushed chunks are views of a buffer that is overwritten after `push` returns (a shared read buffer): the
     * bytes of a chunk still held then (an incomplete frame, or frames held while paused) are copied, once.
     */
    private readonly transientChunks = false,
  ) {}

  /** Bytes received but not yet part of a whole frame (0 means the stream ended on a frame boundary). */
  get pendingBytes(): number {
    // A header already consumed counts: a stream cut right after a header did not end on a frame boundary.
    return this.state === 'payload' ? FRAME_HEADER_BYTES + this.buffered : this.buffered;
  }

  /** Bytes held: an incomplete frame, and whole frames not yet delivered while paused. */
  get heldBytes(): number {
    return this.buffered;
  }

  /** Whether bytes of a frame are held but the frame is not whole yet. */
  get midFrame(): boolean {
    return this.state === 'payload' || (this.state === 'header' && this.buffered > 0);
  }

  get stopped(): boolean {
    return this.state === 'failed';
  }

  /** Feeds bytes; throws {@link FrameError} when the stream is broken (and refuses all later input). */
  push(chunk: Buffer): void {
    if (this.state === 'failed') return;
    if (chunk.length === 0) return;
    let rest = chunk;
    if (this.assembly !== undefined) {
      const take = Math.min(rest.length, this.assembly.length - this.assembled);
      rest.copy(this.assembly, this.assembled, 0, take);
      this.assembled += take;
      this.buffered += take;
      if (this.assembled < this.assembly.length) return;
      this.chunks.push(this.assembly); // the whole payload, in a buffer of its own: delivered as it is
      this.assembly = undefined;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      this.chunks.push(rest);
      this.buffered += rest.length;
    }
    while (this.step());
    if (this.transientChunks && rest.length > 0 && this.chunks[this.chunks.length - 1] === rest) this.keep();
  }

  /**
   * The last chunk is a view of a buffer about to be reused. A payload still incomplete is gathered from here on
   * in a buffer of its own (so a large frame costs one copy, as it would without a shared read buffer); any
   * other bytes still held (a cut header, frames held while paused) are copied.
   */
  private keep(): void {
    if (this.state === 'payload' && this.buffered < this.payloadBytes) {
      const payload = Buffer.allocUnsafe(this.payloadBytes);
      let at = 0;
      for (let i = 0; i < this.chunks.length; i++) {
        const from = i === 0 ? this.offset : 0;
        at += this.chunks[i].copy(payload, at, from);
      }
      this.chunks.length = 0;
      this.offset = 0;
      this.assembly = payload;
      this.assembled = at;
      return;
    }
    const last = this.chunks.length - 1;
    const from = last === 0 ? this.offset : 0;
    this.chunks[last] = Buffer.from(this.chunks[last].subarray(from));
    if (last === 0) this.offset = 0;
  }

  /** Delivers no more frames until `resume()`; bytes pushed meanwhile are held. Takes effect between frames. */
  pause(): void {
    this.paused = true;
  }

  /** Delivers the frames held while paused (it may be paused again by a sink in the middle). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    while (this.step());
  }

  /**
   * The stream can no longer be trusted: deliver nothing more, not even whole frames already received in the
   * same chunk, and drop what is held. Safe to call from inside `onFrame`.
   */
  stop(): void {
    this.state = 'failed';
    this.assembly = undefined;
    this.chunks.length = 0;
    this.offset = 0;
    this.buffered = 0;
  }

  private step(): boolean {
    if (this.paused) return false;
    if (this.state === 'header') {
      if (this.buffered < FRAME_HEADER_BYTES) return false;
      this.readHeader();
      return true;
    }
    if (this.state === 'payload' && this.buffered >= this.payloadBytes) {
      const payload = this.consume(this.payloadBytes);
      this.state = 'header';
      this.sink.onFrame(this.kind, this.id, payload);
      return true;
    }
    return false;
  }

  /** The header is read where it lies when it is within one chunk (nearly always), else from a copy. */
  private readHeader(): void {
    let bytes = this.chunks[0];
    let at = this.offset;
    if (bytes.length - at >= FRAME_HEADER_BYTES) this.skip(FRAME_HEADER_BYTES);
    else {
      bytes = this.consume(FRAME_HEADER_BYTES);
      at = 0;
    }
    const length = bytes.readUInt32BE(at);
    const kind = bytes[at + 4];
    if (!isKnownKind(kind)) return this.fail('UNKNOWN_KIND', `unknown frame kind ${kind}`);
    if (length > this.maxFrameBytes) {
      return this.fail('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
    }
    this.kind = kind;
    this.id = bytes.readUInt32BE(at + 5);
    this.payloadBytes = length;
    this.state = 'payload';
  }

  private fail(reason: FrameError['reason'], message: string): never {
    this.stop();
    throw new FrameError(reason, message);
  }

  /** Drops `n` bytes that lie within the first chunk. */
  private skip(n: number): void {
    this.buffered -= n;
    this.offset += n;
    if (this.offset === this.chunks[0].length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }

  private consume(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[0];
    const at = this.offset;
    if (n <= first.length - at) {
      // The whole chunk, as it came, when the frame is all of it; else a view.
      const out = at === 0 && n === first.length ? first : first.subarray(at, at + n);
      this.skip(n);
      return out;
    }
    this.buffered -= n;
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    while (copied < n) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length - this.offset, n - copied);
      chunk.copy(out, copied, this.offset, this.offset + take);
      copied += take;
      this.offset += take;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    return out;
  }
}
