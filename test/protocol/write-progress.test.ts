import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { FrameKind } from '../../src/protocol/frame';
import { FrameWriter } from '../../src/protocol/frame-writer';

/** A real Writable that takes one chunk per `everyMs` (or, with `everyMs` undefined, takes the first and then nothing). */
function slowSink(everyMs: number | undefined): Writable {
  return new Writable({
    highWaterMark: 16 * 1024,
    write(_chunk, _enc, done) {
      if (everyMs !== undefined) setTimeout(done, everyMs);
    },
  });
}

async function writeAll(writer: FrameWriter, frames: number): Promise<void> {
  const payload = Buffer.alloc(60 * 1024, 0x61);
  for (let i = 0; i < frames; i++) writer.write(FrameKind.RESPONSE, i + 1, payload);
  writer.flush();
}

describe('the write timeout measures progress', () => {
  test('a slow but steady peer (a 60 KiB frame every 10 ms) is never timed out, even over several periods', async () => {
    // About 1 s of writing against a 300 ms timeout: the socket never drains in between, yet the peer makes
    // progress in every period (two frames are enough, and there is room for a loaded machine's timer lag).
    const sink = slowSink(10);
    let timedOut = false;
    const writer = new FrameWriter(sink, { writeTimeoutMs: 300, onWriteTimeout: () => (timedOut = true) });
    await writeAll(writer, 100);
    await new Promise((resolve) => sink.once('drain', resolve));
    assert.equal(timedOut, false);
    assert.equal(sink.writableLength, 0);
    writer.close();
  });

  test('a peer that stops taking bytes is timed out once, after writeTimeoutMs', async () => {
    const sink = slowSink(undefined);
    let timeouts = 0;
    const writer = new FrameWriter(sink, { writeTimeoutMs: 50, onWriteTimeout: () => timeouts++ });
    await writeAll(writer, 10);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(timeouts, 1);
    writer.close();
  });
});
