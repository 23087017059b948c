import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, FrameKind } from '../../src/protocol/frame';
import { FrameError, FrameReader } from '../../src/protocol/frame-reader';

interface Frame {
  kind: FrameKind;
  id: number;
  payload: Uint8Array;
}

const KINDS = Object.values(FrameKind);

const frameArb: fc.Arbitrary<Frame> = fc.record({
  kind: fc.constantFrom(...KINDS),
  id: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 40 }),
});

function header(payloadBytes: number, kind: number, id: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h.writeUInt32BE(payloadBytes, 0);
  h[4] = kind;
  h.writeUInt32BE(id, 5);
  return h;
}

function encode(frames: Frame[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => [header(f.payload.length, f.kind, f.id), f.payload]));
}

/** A reader whose sink copies each payload at once, as the contract asks ("decode it before returning"). */
function collecting(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): {
  reader: FrameReader;
  frames: { kind: number; id: number; payload: Buffer }[];
} {
  const frames: { kind: number; id: number; payload: Buffer }[] = [];
  const reader = new FrameReader(
    { onFrame: (kind, id, payload) => frames.push({ kind, id, payload: Buffer.from(payload) }) },
    maxFrameBytes,
  );
  return { reader, frames };
}

function readAll(pieces: Buffer[]): { kind: number; id: number; payload: Buffer }[] {
  const { reader, frames } = collecting();
  for (const piece of pieces) reader.push(piece);
  assert.equal(reader.pendingBytes, 0, 'a stream of whole frames ends on a frame boundary');
  return frames;
}

function expected(frames: Frame[]): { kind: number; id: number; payload: Buffer }[] {
  return frames.map((f) => ({ kind: f.kind, id: f.id, payload: Buffer.from(f.payload) }));
}

/** Splits `bytes` at the given offsets (any order, duplicates and out-of-range values folded in). */
function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return pieces;
}

describe('FrameReader: whole frames, however the stream is cut', () => {
  test('any sequence of frames split at every byte boundary yields exactly the same frames', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 6 }), (frames) => {
        const stream = encode(frames);
        const want = expected(frames);
        for (let i = 0; i <= stream.length; i++) {
          assert.deepEqual(readAll([stream.subarray(0, i), stream.subarray(i)]), want, `split at byte ${i}`);
        }
        const oneByteAtATime = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
        assert.deepEqual(readAll(oneByteAtATime), want, 'one byte at a time');
      }),
      { numRuns: 60 },
    );
  });

  test('any sequence of frames split at random boundaries yields exactly the same frames', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const stream = encode(frames);
        assert.deepEqual(readAll(splitAt(stream, cuts)), expected(frames));
      }),
      { numRuns: 300 },
    );
  });

  test('pendingBytes counts the bytes since the last frame boundary, header included', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const stream = encode(frames);
        const boundaries = [0];
        for (const f of frames) boundaries.push(boundaries[boundaries.length - 1] + FRAME_HEADER_BYTES + f.payload.length);
        const { reader } = collecting();
        let pushed = 0;
        for (const piece of splitAt(stream, cuts)) {
          reader.push(piece);
          pushed += piece.length;
          const lastBoundary = Math.max(...boundaries.filter((b) => b <= pushed));
          assert.equal(reader.pendingBytes, pushed - lastBoundary, `after ${pushed} bytes`);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('a payload spanning many chunks is handed over whole (push takes ownership of each chunk)', () => {
    const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const stream = encode([{ kind: FrameKind.RESPONSE, id: 7, payload }]);
    const { reader, frames } = collecting();
    for (let i = 0; i < stream.length; i += 37) {
      reader.push(stream.subarray(i, i + 37));
    }
    assert.deepEqual(frames, [{ kind: FrameKind.RESPONSE, id: 7, payload }]);
  });
});

/** Pushes `pieces` the way a shared read buffer delivers them: each copied into one buffer, which is then scribbled over. */
function readThroughOneBuffer(reader: FrameReader, pieces: Buffer[], between?: () => void): void {
  const shared = Buffer.alloc(64 * 1024);
  for (const piece of pieces) {
    piece.copy(shared);
    reader.push(shared.subarray(0, piece.length));
    shared.fill(0xee);
    between?.();
  }
}

describe('FrameReader: transient chunks (a read buffer reused after each push)', () => {
  test('frames cut at random boundaries come out intact when every chunk is overwritten after its push', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const out: { kind: number; id: number; payload: Buffer }[] = [];
        const reader = new FrameReader(
          { onFrame: (kind, id, payload) => out.push({ kind, id, payload: Buffer.from(payload) }) },
          DEFAULT_MAX_FRAME_BYTES,
          true,
        );
        readThroughOneBuffer(reader, splitAt(encode(frames), cuts));
        assert.deepEqual(out, expected(frames));
        assert.equal(reader.pendingBytes, 0);
      }),
      { numRuns: 300 },
    );
  });

  test('whole frames held while paused, and a payload spread over many reads, survive the reuse', () => {
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
    const stream = encode([
      { kind: FrameKind.RESPONSE, id: 1, payload: Buffer.from('first') },
      { kind: FrameKind.RESPONSE, id: 2, payload: Buffer.from('held while paused') },
      { kind: FrameKind.RESPONSE, id: 3, payload },
    ]);
    const out: { id: number; payload: Buffer }[] = [];
    let reader: FrameReader | undefined = undefined;
    reader = new FrameReader(
      {
        onFrame: (_kind, id, p) => {
          out.push({ id, payload: Buffer.from(p) });
          if (id === 1) reader?.pause();
        },
      },
      DEFAULT_MAX_FRAME_BYTES,
      true,
    );
    const firstTwo = FRAME_HEADER_BYTES * 2 + 'first'.length + 'held while paused'.length;
    readThroughOneBuffer(reader, [stream.subarray(0, firstTwo + 100)]);
    assert.deepEqual(
      out.map((f) => f.id),
      [1],
    );
    reader.resume();
    const rest = stream.subarray(firstTwo + 100);
    readThroughOneBuffer(
      reader,
      Array.from({ length: Math.ceil(rest.length / 333) }, (_, i) => rest.subarray(i * 333, (i + 1) * 333)),
    );
    assert.deepEqual(out, [
      { id: 1, payload: Buffer.from('first') },
      { id: 2, payload: Buffer.from('held while paused') },
      { id: 3, payload },
    ]);
  });
});

describe('FrameReader: zero-length payloads', () => {
  test('a frame with an empty payload is delivered from its header alone', () => {
    for (const kind of KINDS) {
      const { reader, frames } = collecting();
      reader.push(header(0, kind, 42));
      assert.deepEqual(frames, [{ kind, id: 42, payload: Buffer.alloc(0) }]);
      assert.equal(reader.pendingBytes, 0);
    }
  });

  test('several empty frames in one chunk, and empty chunks, are all fine', () => {
    const { reader, frames } = collecting();
    reader.push(Buffer.alloc(0));
    reader.push(Buffer.concat([header(0, FrameKind.PING, 1), header(0, FrameKind.PONG, 1), header(0, FrameKind.CANCEL, 9)]));
    reader.push(Buffer.alloc(0));
    assert.deepEqual(
      frames.map((f) => [f.kind, f.id, f.payload.length]),
      [
        [FrameKind.PING, 1, 0],
        [FrameKind.PONG, 1, 0],
        [FrameKind.CANCEL, 9, 0],
      ],
    );
  });

  test('with maxFrameBytes 0, only empty payloads pass', () => {
    const { reader, frames } = collecting(0);
    reader.push(header(0, FrameKind.PING, 3));
    assert.equal(frames.length, 1);
    assert.throws(
      () => reader.push(header(1, FrameKind.RESPONSE, 3)),
      (err: unknown) => err instanceof FrameError && err.reason === 'FRAME_TOO_LARGE',
    );
  });
});

describe('FrameReader: size limit checked from the header alone', () => {
  test('a header over the limit is refused as soon as its 9 bytes are in, before any payload byte is pushed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 << 20 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.constantFrom(...KINDS),
        fc.integer({ min: 0, max: 0xffffffff }),
        (maxFrameBytes, over, kind, id) => {
          const length = Math.min(maxFrameBytes + over, 0xffffffff);
          const { reader, frames } = collecting(maxFrameBytes);
          const h = header(length, kind, id);
          for (let i = 0; i < FRAME_HEADER_BYTES - 1; i++) reader.push(h.subarray(i, i + 1)); // not yet a whole header
          assert.throws(
            () => reader.push(h.subarray(FRAME_HEADER_BYTES - 1)),
            (err: unknown) => err instanceof FrameError && err.reason === 'FRAME_TOO_LARGE' && err.message.includes(String(length)),
          );
          assert.equal(reader.pendingBytes, 0, 'nothing is kept once the stream is refused');
          assert.equal(frames.length, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a payload of exactly the limit is accepted; one byte more is not', () => {
    const { reader, frames } = collecting(16);
    reader.push(encode([{ kind: FrameKind.RESPONSE, id: 1, payload: new Uint8Array(16).fill(1) }]));
    assert.equal(frames.length, 1);
    assert.throws(() => reader.push(header(17, FrameKind.RESPONSE, 2)), FrameError);
  });

  test('the default limit refuses a 4 GiB header without buffering anything', () => {
    const { reader } = collecting(DEFAULT_MAX_FRAME_BYTES);
    assert.throws(
      () => reader.push(header(0xffffffff, FrameKind.REQUEST, 1)),
      (err: unknown) => err instanceof FrameError && err.reason === 'FRAME_TOO_LARGE',
    );
  });

  test('frames before a broken header are delivered; nothing after it is, and later input is ignored', () => {
    const good = encode([{ kind: FrameKind.REQUEST, id: 1, payload: Buffer.from('ok') }]);
    const { reader, frames } = collecting(8);
    assert.throws(() => reader.push(Buffer.concat([good, header(9, FrameKind.REQUEST, 2), Buffer.alloc(9)])), FrameError);
    assert.equal(frames.length, 1);
    reader.push(good); // refused quietly: the stream can no longer be trusted
    assert.equal(frames.length, 1);
    assert.equal(reader.pendingBytes, 0);
  });
});

describe('FrameReader: unknown kinds', () => {
  test('any kind outside 1-10 is a FrameError UNKNOWN_KIND', () => {
    const unknownKind = fc.oneof(fc.constant(0), fc.integer({ min: FrameKind.STREAM_END + 1, max: 255 }));
    fc.assert(
      fc.property(unknownKind, fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffffffff }), (kind, length, id) => {
        const { reader, frames } = collecting(64);
        assert.throws(
          () => reader.push(header(length, kind, id)),
          (err: unknown) => err instanceof FrameError && err.reason === 'UNKNOWN_KIND' && err.message === `unknown frame kind ${kind}`,
        );
        assert.equal(frames.length, 0);
      }),
      { numRuns: 200 },
    );
  });

  test('the kind is checked before the length: a header with both faults reports UNKNOWN_KIND', () => {
    const { reader } = collecting(4);
    assert.throws(
      () => reader.push(header(1000, 0, 1)),
      (err: unknown) => err instanceof FrameError && err.reason === 'UNKNOWN_KIND',
    );
  });
});

describe('FrameReader: random garbage', () => {
  test('never throws anything but FrameError and never holds more than a header plus the limit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 0, max: 64 }),
        (garbage, cuts, maxFrameBytes) => {
          const frames: { kind: number; payloadBytes: number }[] = [];
          const reader = new FrameReader(
            { onFrame: (kind, _id, payload) => frames.push({ kind, payloadBytes: payload.length }) },
            maxFrameBytes,
          );
          let failed = false;
          for (const piece of splitAt(Buffer.from(garbage), cuts)) {
            try {
              reader.push(piece);
            } catch (err) {
              assert.ok(err instanceof FrameError, `only FrameError may escape, got ${String(err)}`);
              assert.ok(!failed, 'a reader that failed once stays quiet');
              failed = true;
            }
            // a header not yet whole (at most 8 bytes), or a header and less than a whole payload
            assert.ok(reader.pendingBytes <= FRAME_HEADER_BYTES - 1 + maxFrameBytes, `holds ${reader.pendingBytes} bytes`);
            if (failed) assert.equal(reader.pendingBytes, 0);
          }
          for (const f of frames) {
            assert.ok((KINDS as number[]).includes(f.kind));
            assert.ok(f.payloadBytes <= maxFrameBytes);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
