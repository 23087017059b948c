import type { Socket } from 'node:net';

/**
 * The baseline's framing: a 4-byte big-endian payload length, then that many bytes of UTF-8 JSON. Both ends
 * batch their writes the way MyRPC's FrameWriter does: every frame written during one event-loop turn goes
 * out in one flush (one `write`, or one `writev` via cork/uncork when a large frame has its own buffer).
 */

const HEADER_BYTES = 4;
const SLAB_BYTES = 64 * 1024;
/** Payloads longer than this (in characters) get a buffer of their own instead of a slab slot. */
const LARGE_CHARS = 8 * 1024;

export class RawFrameWriter {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private start = 0;
  private used = 0;
  private readonly queue: Buffer[] = [];
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(private readonly socket: Socket) {}

  write(json: string): void {
    if (json.length > LARGE_CHARS) {
      const bytes = Buffer.byteLength(json, 'utf8');
      const frame = Buffer.allocUnsafe(HEADER_BYTES + bytes);
      frame.writeUInt32BE(bytes, 0);
      frame.write(json, HEADER_BYTES, 'utf8');
      this.seal();
      this.queue.push(frame);
    } else {
      if (this.slab.length - this.used < HEADER_BYTES + json.length * 3) {
        this.seal();
        this.slab = Buffer.allocUnsafe(SLAB_BYTES);
        this.start = this.used = 0;
      }
      const bytes = this.slab.write(json, this.used + HEADER_BYTES, 'utf8');
      this.slab.writeUInt32BE(bytes, this.used);
      this.used += HEADER_BYTES + bytes;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  flush(): void {
    this.scheduled = false;
    this.seal();
    const queue = this.queue;
    if (queue.length === 0 || this.socket.destroyed) {
      queue.length = 0;
      return;
    }
    if (queue.length === 1) {
      this.socket.write(queue[0]);
    } else {
      this.socket.cork();
      for (const buf of queue) this.socket.write(buf);
      this.socket.uncork();
    }
    queue.length = 0;
  }

  /** Moves the slab's written bytes to the queue; the socket keeps the view, so the slab only moves forward. */
  private seal(): void {
    if (this.used > this.start) {
      this.queue.push(this.slab.subarray(this.start, this.used));
      this.start = this.used;
    }
  }
}

/** Splits the byte stream into frames over a list of chunks, copying only frames that straddle chunks. */
export class RawFrameReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private payloadBytes = -1;

  constructor(private readonly onFrame: (json: string) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.payloadBytes < 0) {
        if (this.buffered < HEADER_BYTES) return;
        this.payloadBytes = this.take(HEADER_BYTES).readUInt32BE(0);
      }
      if (this.buffered < this.payloadBytes) return;
      const payload = this.take(this.payloadBytes);
      this.payloadBytes = -1;
      this.onFrame(payload.toString('utf8'));
    }
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === first.length) {
      this.chunks.shift();
      return first;
    }
    if (n < first.length) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[0];
      const part = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, part);
      offset += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}
