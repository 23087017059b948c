import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES, FrameKind } from '../../src/protocol/frame';
import { DEFAULT_MAX_BATCH_FRAMES, FrameWriter, payloadExceeds, type FrameWriterOptions } from '../../src/protocol/frame-writer';

const SLAB_BYTES = 64 * 1024;

/**
 * The part of net.Socket that FrameWriter uses (write, on/off 'drain', writable, destroyed). It keeps both the
 * buffers it was handed and copies taken at write time, so a test can tell if the writer later overwrote
 * bytes the socket still held.
 */
class FakeSocket {
  readonly handed: Buffer[] = [];
  readonly copies: Buffer[] = [];
  writable = true;
  destroyed = false;
  /** What `write` answers: false means the kernel buffer is full (backpressure). */
  accepts = true;
  private readonly drainListeners = new Set<() => void>();

  write(bytes: Buffer): boolean {
    this.handed.push(bytes);
    this.copies.push(Buffer.from(bytes));
    return this.accepts;
  }

  on(event: string, listener: () => void): this {
    if (event === 'drain') this.drainListeners.add(listener);
    return this;
  }

  off(event: string, listener: () => void): this {
    if (event === 'drain') this.drainListeners.delete(listener);
    return this;
  }

  drain(): void {
    for (const l of this.drainListeners) l();
  }

  get listeningForDrain(): number {
    return this.drainListeners.size;
  }

  get stream(): Buffer {
    return Buffer.concat(this.copies);
  }
}

function writerOn(socket: FakeSocket, options: Partial<FrameWriterOptions> = {}): FrameWriter {
  return new FrameWriter(socket as unknown as Socket, { writeTimeoutMs: 1000, onWriteTimeout: () => undefined, ...options });
}

/** A minimal independent parser, so the writer is not checked against the reader it feeds. */
function parse(stream: Buffer): { kind: number; id: number; payload: Buffer }[] {
  const frames: { kind: number; id: number; payload: Buffer }[] = [];
  let at = 0;
  while (at < stream.length) {
    const length = stream.readUInt32BE(at);
    frames.push({
      kind: stream[at + 4],
      id: stream.readUInt32BE(at + 5),
      payload: stream.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length),
    });
    at += FRAME_HEADER_BYTES + length;
  }
  assert.equal(at, stream.length, 'the stream ends on a frame boundary');
  return frames;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function assertNothingOverwritten(socket: FakeSocket): void {
  socket.handed.forEach((b, i) => assert.ok(b.equals(socket.copies[i]), `write ${i} was changed after it was handed to the socket`));
}

describe('FrameWriter: coalescing', () => {
  test('frames written in one turn go out in one socket write, in order, on the next turn', async () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    writer.write(FrameKind.REQUEST, 1, '["Calculator","add",[2,3],1000]');
    writer.write(FrameKind.RESPONSE, 2, Buffer.from([1, 2, 3]));
    writer.write(FrameKind.PING, 3, undefined);
    assert.equal(socket.copies.length, 0, 'nothing is written synchronously');
    await nextTurn();
    assert.equal(socket.copies.length, 1);
    assert.equal(writer.flushes, 1);
    assert.deepEqual(
      parse(socket.stream).map((f) => [f.kind, f.id, f.payload.toString('hex')]),
      [
        [FrameKind.REQUEST, 1, Buffer.from('["Calculator","add",[2,3],1000]').toString('hex')],
        [FrameKind.RESPONSE, 2, '010203'],
        [FrameKind.PING, 3, ''],
      ],
    );
    writer.close();
  });

  test('the DEFAULT_MAX_BATCH_FRAMES-th frame flushes at once; the next starts the next batch', async () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    const n = DEFAULT_MAX_BATCH_FRAMES;
    for (let id = 1; id < n; id++) writer.write(FrameKind.PING, id, undefined);
    assert.equal(socket.copies.length, 0);
    writer.write(FrameKind.PING, n, undefined);
    assert.equal(socket.copies.length, 1, `flushed synchronously by frame ${n}`);
    assert.equal(parse(socket.copies[0]).length, n);
    writer.write(FrameKind.PING, n + 1, undefined);
    assert.equal(socket.copies.length, 1);
    await nextTurn();
    assert.deepEqual(
      parse(socket.copies[1]).map((f) => f.id),
      [n + 1],
    );
    writer.close();
  });

  test('maxBatchFrames and maxBatchBytes options bound a batch', () => {
    const socket = new FakeSocket();
    const byCount = writerOn(socket, { maxBatchFrames: 3 });
    for (let id = 1; id <= 7; id++) byCount.write(FrameKind.PING, id, undefined);
    assert.deepEqual(
      socket.copies.map((c) => parse(c).length),
      [3, 3],
    );
    byCount.close();

    const small = new FakeSocket();
    const byBytes = writerOn(small, { maxBatchBytes: 100 });
    for (let id = 1; id <= 5; id++) byBytes.write(FrameKind.RESPONSE, id, new Uint8Array(41)); // 50 bytes a frame
    assert.deepEqual(
      small.copies.map((c) => c.length),
      [100, 100],
    );
    byBytes.close();
  });

  test('frames filling exactly 64 KiB flush at once', () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    const payload = new Uint8Array(SLAB_BYTES / 8 - FRAME_HEADER_BYTES).fill(7);
    for (let id = 1; id <= 7; id++) writer.write(FrameKind.RESPONSE, id, payload);
    assert.equal(socket.copies.length, 0);
    writer.write(FrameKind.RESPONSE, 8, payload);
    assert.deepEqual(
      socket.copies.map((c) => c.length),
      [SLAB_BYTES],
    );
    writer.close();
  });

  test('a frame that does not fit the rest of the slab flushes the batch first; no write is over 64 KiB', async () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    const payload = new Uint8Array(15_000).fill(9);
    for (let id = 1; id <= 5; id++) writer.write(FrameKind.RESPONSE, id, payload);
    assert.equal(socket.copies.length, 1, 'the 5th frame did not fit: the first 4 went out at once');
    assert.equal(parse(socket.copies[0]).length, 4);
    await nextTurn();
    assert.deepEqual(
      parse(socket.stream).map((f) => f.id),
      [1, 2, 3, 4, 5],
    );
    for (const c of socket.copies) assert.ok(c.length <= SLAB_BYTES);
    assertNothingOverwritten(socket);
    writer.close();
  });
});

describe('FrameWriter: flushAfterMicrotasks', () => {
  test('what is written now and by promise jobs already queued goes out in one write once they have run, before the turn ends', async () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    const queuedBefore = Promise.resolve().then(() => writer.write(FrameKind.RESPONSE, 2, '"two"'));
    writer.write(FrameKind.RESPONSE, 1, '"one"');
    writer.flushAfterMicrotasks();
    writer.flushAfterMicrotasks(); // a second request in the same microtask run is the same flush
    assert.equal(socket.copies.length, 0, 'nothing is written synchronously');
    await queuedBefore; // resumes after the queued flush
    assert.equal(immediateRan, false, 'still in the same turn');
    assert.equal(socket.copies.length, 1);
    assert.deepEqual(
      parse(socket.copies[0]).map((f) => f.id),
      [1, 2],
    );
    // Later frames of the same turn wait for its end, as usual.
    writer.write(FrameKind.RESPONSE, 3, '"three"');
    await Promise.resolve();
    assert.equal(socket.copies.length, 1);
    await nextTurn();
    assert.equal(socket.copies.length, 2);
    assert.equal(writer.flushes, 2);
    writer.close();
  });

  test('a queued microtask flush after close writes nothing', async () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    writer.write(FrameKind.PING, 1, undefined);
    writer.flushAfterMicrotasks();
    writer.close();
    await nextTurn();
    assert.equal(socket.copies.length, 0);
  });
});

describe('FrameWriter: large and multi-byte payloads', () => {
  test('payloads around and above half the slab are written whole, after what was queued before them', () => {
    for (const size of [SLAB_BYTES / 2 - FRAME_HEADER_BYTES, SLAB_BYTES / 2 - FRAME_HEADER_BYTES + 1, 40_000, 1 << 20]) {
      const socket = new FakeSocket();
      const writer = writerOn(socket);
      const big = Buffer.alloc(size);
      for (let i = 0; i < size; i++) big[i] = (i * 31) & 0xff;
      writer.write(FrameKind.PING, 1, undefined);
      writer.write(FrameKind.RESPONSE, 2, big);
      writer.write(FrameKind.PONG, 3, undefined);
      writer.flush();
      const frames = parse(socket.stream);
      assert.deepEqual(
        frames.map((f) => [f.kind, f.id, f.payload.length]),
        [
          [FrameKind.PING, 1, 0],
          [FrameKind.RESPONSE, 2, size],
          [FrameKind.PONG, 3, 0],
        ],
      );
      assert.ok(frames[1].payload.equals(big), `payload of ${size} bytes`);
      writer.close();
    }
  });

  test('string payloads are counted in UTF-8 bytes, not characters', () => {
    const samples = [
      'héllo',
      '€',
      '𝄞 clef',
      '日本語のテキスト',
      '👩‍👩‍👧 family',
      'a'.repeat(10_919),
      '€'.repeat(10_919),
      '€'.repeat(10_920),
      '𝄞'.repeat(5_460),
      '€'.repeat(30_000),
    ];
    for (const text of samples) {
      const socket = new FakeSocket();
      const writer = writerOn(socket);
      writer.write(FrameKind.REQUEST, 5, text);
      writer.flush();
      const [frame] = parse(socket.stream);
      assert.equal(socket.stream.readUInt32BE(0), Buffer.byteLength(text, 'utf8'), `length of a ${text.length}-character string`);
      assert.equal(frame.payload.toString('utf8'), text);
      writer.close();
    }
  });

  test('a multi-byte string near the end of the slab is not cut short', () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    // two frames leave 25,000 bytes of the slab: room for 10,000 '€' by some counts, but they are 30,000 bytes
    const filler = new Uint8Array((SLAB_BYTES - 25_000) / 2 - FRAME_HEADER_BYTES);
    writer.write(FrameKind.RESPONSE, 1, filler);
    writer.write(FrameKind.RESPONSE, 2, filler);
    const text = '€'.repeat(10_000);
    writer.write(FrameKind.RESPONSE, 3, text);
    writer.flush();
    const frames = parse(socket.stream);
    assert.deepEqual(
      frames.map((f) => f.payload.length),
      [filler.length, filler.length, 30_000],
    );
    assert.equal(frames[2].payload.toString('utf8'), text);
    assertNothingOverwritten(socket);
    writer.close();
  });

  test('any mix of string, byte and empty payloads comes out byte for byte', async () => {
    const payloadArb = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: 'grapheme', minLength: 10_000, maxLength: 12_000 }),
      fc.uint8Array({ maxLength: 2_000 }),
      fc.integer({ min: 0, max: 70_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
      fc.constant(undefined),
    );
    const frameArb = fc.record({
      kind: fc.constantFrom(...Object.values(FrameKind)),
      id: fc.integer({ min: 0, max: 0xffffffff }),
      payload: payloadArb,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { maxLength: 40 }), async (frames) => {
        const socket = new FakeSocket();
        const writer = writerOn(socket);
        for (const f of frames) writer.write(f.kind, f.id, f.payload);
        await nextTurn();
        const want = frames.map((f) => ({
          kind: f.kind,
          id: f.id,
          payload:
            f.payload === undefined
              ? Buffer.alloc(0)
              : typeof f.payload === 'string'
                ? Buffer.from(f.payload, 'utf8')
                : Buffer.from(f.payload),
        }));
        assert.deepEqual(parse(socket.stream), want);
        for (const c of socket.copies) {
          const single = parse(c).length === 1;
          assert.ok(c.length <= SLAB_BYTES || single, 'only a single large frame may exceed 64 KiB');
          assert.ok(parse(c).length <= DEFAULT_MAX_BATCH_FRAMES || single);
        }
        assertNothingOverwritten(socket);
        writer.close();
      }),
      { numRuns: 60 },
    );
  });

  test('payloadExceeds counts UTF-8 bytes', () => {
    assert.equal(payloadExceeds('€€', 6), false);
    assert.equal(payloadExceeds('€€', 5), true);
    assert.equal(payloadExceeds('abc', 3), false);
    assert.equal(payloadExceeds(new Uint8Array(4), 3), true);
  });
});

describe('FrameWriter: closing and backpressure', () => {
  test('close drops what is queued, ignores later writes and stops listening for drain', async () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    assert.equal(socket.listeningForDrain, 1);
    writer.write(FrameKind.PING, 1, undefined);
    writer.close();
    writer.write(FrameKind.PING, 2, undefined);
    writer.flush();
    await nextTurn();
    assert.equal(socket.copies.length, 0);
    assert.equal(socket.listeningForDrain, 0);
  });

  test('a socket that is no longer writable is handed nothing and the flush is not counted', async () => {
    const socket = new FakeSocket();
    const writer = writerOn(socket);
    socket.writable = false;
    writer.write(FrameKind.PING, 1, undefined);
    writer.write(FrameKind.RESPONSE, 2, new Uint8Array(40_000));
    await nextTurn();
    assert.equal(socket.copies.length, 0);
    assert.equal(writer.flushes, 0);
    writer.close();
  });

  test('a socket that refuses bytes for writeTimeoutMs triggers onWriteTimeout; a drain in time does not', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let timeouts = 0;
    const socket = new FakeSocket();
    socket.accepts = false;
    const writer = writerOn(socket, { writeTimeoutMs: 500, onWriteTimeout: () => timeouts++ });
    writer.write(FrameKind.PING, 1, undefined);
    writer.flush();
    t.mock.timers.tick(499);
    socket.drain();
    t.mock.timers.tick(10_000);
    assert.equal(timeouts, 0, 'drained in time');

    writer.write(FrameKind.PING, 2, undefined);
    writer.flush();
    t.mock.timers.tick(500);
    assert.equal(timeouts, 1);
    writer.close();
  });
});
