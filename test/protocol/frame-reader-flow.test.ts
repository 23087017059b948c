import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES, FrameKind } from '../../src/protocol/frame';
import { FrameReader } from '../../src/protocol/frame-reader';
import { writeHeader } from '../../src/protocol/frame-writer';

function frame(id: number, payload = 'p'): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  writeHeader(out, 0, payload.length, FrameKind.REQUEST, id);
  out.write(payload, FRAME_HEADER_BYTES);
  return out;
}

describe('frame reader: pause, resume, stop', () => {
  test('a sink that pauses in the middle of a chunk gets no more frames until resume; the rest are held, then delivered in order', () => {
    const ids: number[] = [];
    const reader: FrameReader = new FrameReader(
      {
        onFrame: (_k, id) => {
          ids.push(id);
          if (id === 2) reader.pause();
        },
      },
      1024,
    );
    reader.push(Buffer.concat([frame(1), frame(2), frame(3), frame(4)]));
    assert.deepEqual(ids, [1, 2]);
    assert.equal(reader.heldBytes, 2 * (FRAME_HEADER_BYTES + 1));
    reader.push(frame(5));
    assert.deepEqual(ids, [1, 2]);
    reader.resume();
    assert.deepEqual(ids, [1, 2, 3, 4, 5]);
    assert.equal(reader.heldBytes, 0);
  });

  test('stop() from inside onFrame: the frames after the fatal one in the same chunk are never delivered', () => {
    const ids: number[] = [];
    const reader: FrameReader = new FrameReader(
      {
        onFrame: (_k, id) => {
          ids.push(id);
          if (id === 0) reader.stop();
        },
      },
      1024,
    );
    reader.push(Buffer.concat([frame(1), frame(0), frame(2), frame(3)]));
    reader.push(frame(4));
    reader.resume();
    assert.deepEqual(ids, [1, 0]);
    assert.equal(reader.stopped, true);
    assert.equal(reader.heldBytes, 0);
  });

  test('property: pausing after any frames and resuming later delivers every frame once, in order, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 20 }),
        (payloads, cuts, pauseAfter) => {
          const bytes = Buffer.concat(payloads.map((p, i) => frame(i + 1, p)));
          const got: number[] = [];
          const reader: FrameReader = new FrameReader(
            {
              onFrame: (_k, id) => {
                got.push(id);
                if (pauseAfter[id - 1]) reader.pause();
              },
            },
            1024,
          );
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length];
            reader.push(bytes.subarray(at, at + n));
            at += n;
            if (i % 2 === 1) reader.resume();
          }
          for (let i = 0; i <= payloads.length; i++) reader.resume();
          assert.deepEqual(
            got,
            payloads.map((_, i) => i + 1),
          );
          assert.equal(reader.heldBytes, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('midFrame is true while a frame is incomplete, false on a frame boundary', () => {
    const reader = new FrameReader({ onFrame: () => undefined }, 1024);
    assert.equal(reader.midFrame, false);
    const f = frame(1, 'hello');
    reader.push(f.subarray(0, 3));
    assert.equal(reader.midFrame, true);
    reader.push(f.subarray(3, 11));
    assert.equal(reader.midFrame, true);
    reader.push(f.subarray(11));
    assert.equal(reader.midFrame, false);
  });
});
