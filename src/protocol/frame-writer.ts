import type { Writable } from 'node:stream';
import { FRAME_HEADER_BYTES, type FrameKind } from './frame';
import { MIN_WRITE_PROGRESS_BYTES } from '../util/limits';
import { unrefTimer } from '../util/timers';

const SLAB_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Frames per batch before a flush within the same turn. The 64 KiB byte bound is what keeps batches (and the
 * first frame's wait) small; a tight frame count only adds system calls: at 64 calls in flight, 16 made four
 * writes per turn where one does, and `write` was a third of both processes' CPU (docs/BENCHMARKS.md).
 */
export const DEFAULT_MAX_BATCH_FRAMES = 256;

export interface FrameWriterOptions {
  /** Flush at once when this many frames are waiting (default {@link DEFAULT_MAX_BATCH_FRAMES}). */
  maxBatchFrames?: number;
  /** Flush at once when this many bytes are waiting (default 64 KiB). */
  maxBatchBytes?: number;
  /**
   * How long the peer may go without taking {@link MIN_WRITE_PROGRESS_BYTES} of the queued bytes (or all of
   * them, when fewer are queued) before `onWriteTimeout` is called: a trickle cannot hold the queue for ever.
   */
  writeTimeoutMs: number;
  onWriteTimeout: () => void;
  /** The socket's buffer has emptied (after a write that it could not take at once). */
  onDrain?: () => void;
}

/**
 * Coalesces the frames written during one event-loop turn into one `socket.write`, bounded by frame count
 * and bytes. Frames are encoded straight into a shared slab (a string payload is written as UTF-8 without an
 * intermediate Buffer), and each flush hands the socket a view of the slab.
 */
export class FrameWriter {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private start = 0;
  private used = 0;
  private frames = 0;
  private scheduled: NodeJS.Immediate | undefined;
  /** A flush is queued as a microtask ({@link flushAfterMicrotasks}). */
  private microtaskQueued = false;
  /** Between {@link beginBurst} and {@link endBurst}: frames wait for the end of the burst. */
  private inBurst = false;
  private writeTimer: NodeJS.Timeout | undefined;
  /** Bytes taken by the socket's own buffer when the write timer was armed, and how many were queued then. */
  private progressMark = 0;
  private queuedAtMark = 0;
  /** Every byte handed to `socket.write`. */
  private handedBytes = 0;
  private closed = false;
  /** Counts flushes; a frame written while this was `n` is on the socket once it is greater than `n`. */
  flushes = 0;
  private readonly maxBatchFrames: number;
  private readonly maxBatchBytes: number;
  private readonly flushNow = (): void => this.flush();
  private readonly flushQueued = (): void => {
    this.microtaskQueued = false;
    this.flush();
  };
  private readonly onDrain = (): void => {
    this.clearWriteTimer();
    this.options.onDrain?.();
  };
  private readonly checkProgress = (): void => this.onWriteTimer();
  /** An empty write is queued behind everything written, to call `onDrain` when it has all been taken. */
  private takenWatch = false;
  private readonly onTaken = (): void => {
    this.takenWatch = false;
    if (!this.closed) this.options.onDrain?.();
  };

  constructor(
    private readonly socket: Writable,
    private readonly options: FrameWriterOptions,
  ) {
    this.maxBatchFrames = options.maxBatchFrames ?? DEFAULT_MAX_BATCH_FRAMES;
    this.maxBatchBytes = options.maxBatchBytes ?? SLAB_BYTES;
    socket.on('drain', this.onDrain);
  }

  /** Queues one frame. A string payload is written as UTF-8; `undefined` means an empty payload. */
  write(kind: FrameKind, id: number, payload: string | Uint8Array | undefined): void {
    if (this.closed) return;
    const maxBytes = payload === undefined ? 0 : typeof payload === 'string' ? payload.length * 3 : payload.length;
    const need = FRAME_HEADER_BYTES + maxBytes;
    if (need > SLAB_BYTES / 2) return this.writeLarge(kind, id, payload);
    if (this.slab.length - this.used < need) this.newSlab();
    const at = this.used;
    const bytes =
      payload === undefined
        ? 0
        : typeof payload === 'string'
          ? this.slab.write(payload, at + FRAME_HEADER_BYTES, 'utf8')
          : (this.slab.set(payload, at + FRAME_HEADER_BYTES), payload.length);
    writeHeader(this.slab, at, bytes, kind, id);
    this.used = at + FRAME_HEADER_BYTES + bytes;
    this.frames++;
    if (this.frames >= this.maxBatchFrames || this.used - this.start >= this.maxBatchBytes) this.flush();
    else if (this.scheduled === undefined && !this.microtaskQueued && !this.inBurst) this.scheduled = setImmediate(this.flushNow);
  }

  /** Bytes queued and not yet taken by the transport: frames not yet flushed plus the socket's buffer. */
  get backlogBytes(): number {
    return this.used - this.start + this.socket.writableLength;
  }

  /**
   * Flushes once the microtasks queued so far have run, instead of at the end of the event-loop turn: what the
   * current callback and the promise jobs it has already queued write still goes out in one `write`, and a lone
   * call does not wait for the loop's check phase. For a peer that is not in a burst (one call in flight, or a
   * chunk of requests being read); writes after that flush, later in the same turn, are flushed as usual.
   */
  flushAfterMicrotasks(): void {
    if (this.microtaskQueued || this.closed) return;
    this.microtaskQueued = true;
    queueMicrotask(this.flushQueued);
  }

  /**
   * Frames written from now until {@link endBurst} (the requests of one received chunk being handled) wait for
   * it, unless a batch fills.
   */
  beginBurst(): void {
    this.inBurst = true;
  }

  /** What the burst wrote, and what the promise jobs it queued write, goes out once those jobs have run. */
  endBurst(): void {
    this.inBurst = false;
    this.flushAfterMicrotasks();
  }

  /** Writes everything queued, in one `socket.write`. */
  flush(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    // A destroyed or ended socket takes nothing: not counting a flush keeps `mayHaveRun` false for frames that never left.
    if (this.used === this.start || this.closed || !this.socket.writable) return;
    const batch = this.slab.subarray(this.start, this.used);
    this.start = this.used;
    this.frames = 0;
    this.flushes++;
    this.push(batch);
  }

  /**
   * Calls `onDrain` once every byte queued now has been taken by the transport, whether or not the socket's own
   * buffer ever filled: the socket emits 'drain' only after a write it refused, so a caller waiting for the
   * backlog to fall under a mark lower than the socket's own high-water mark (plus one batch) would wait for
   * ever. Flushes what is queued, then writes an empty buffer whose callback runs after the bytes before it.
   */
  onceTaken(): void {
    if (this.takenWatch || this.closed) return;
    this.flush();
    if (!this.socket.writable) return;
    this.takenWatch = true;
    this.socket.write(EMPTY, this.onTaken);
  }

  /** Drops anything queued and releases timers; later writes are ignored. */
  close(): void {
    this.closed = true;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.clearWriteTimer();
    this.socket.off('drain', this.onDrain);
  }

  private writeLarge(kind: FrameKind, id: number, payload: string | Uint8Array | undefined): void {
    this.flush();
    if (!this.socket.writable) return;
    // One allocation, and a string is encoded once, straight into the frame.
    const bytes = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bytes);
    writeHeader(frame, 0, bytes, kind, id);
    if (typeof payload === 'string') frame.write(payload, FRAME_HEADER_BYTES, 'utf8');
    else if (payload !== undefined) frame.set(payload, FRAME_HEADER_BYTES);
    this.flushes++;
    this.push(frame);
  }

  private newSlab(): void {
    this.flush();
    this.slab = Buffer.allocUnsafe(SLAB_BYTES);
    this.start = this.used = 0;
  }

  private push(bytes: Buffer): void {
    this.handedBytes += bytes.length;
    if (!this.socket.write(bytes) && this.writeTimer === undefined && !this.socket.destroyed) this.armWriteTimer();
  }

  /** Bytes the transport has passed on (to the kernel, or the next stream) of all handed to it. */
  private get takenBytes(): number {
    return this.handedBytes - this.socket.writableLength;
  }

  private armWriteTimer(): void {
    this.progressMark = this.takenBytes;
    this.queuedAtMark = this.socket.writableLength;
    this.writeTimer = unrefTimer(setTimeout(this.checkProgress, this.options.writeTimeoutMs));
  }

  /** Progress, not the mere absence of 'drain', decides: a peer taking a few bytes now and then is dropped. */
  private onWriteTimer(): void {
    this.writeTimer = undefined;
    if (this.closed || this.socket.destroyed || this.socket.writableLength === 0) return;
    const progress = this.takenBytes - this.progressMark;
    if (progress >= Math.min(this.queuedAtMark, MIN_WRITE_PROGRESS_BYTES)) return this.armWriteTimer();
    this.options.onWriteTimeout();
  }

  private clearWriteTimer(): void {
    if (this.writeTimer !== undefined) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
  }
}

export function writeHeader(buf: Buffer, at: number, payloadBytes: number, kind: FrameKind, id: number): void {
  buf.writeUInt32BE(payloadBytes, at);
  buf[at + 4] = kind;
  buf.writeUInt32BE(id, at + 5);
}

/** Whether a payload is over `limit` bytes once encoded; counts UTF-8 bytes only when it could matter. */
export function payloadExceeds(payload: string | Uint8Array, limit: number): boolean {
  if (typeof payload !== 'string') return payload.length > limit;
  return payload.length * 3 > limit && Buffer.byteLength(payload, 'utf8') > limit;
}
