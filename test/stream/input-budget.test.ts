/** Client-stream items waiting for handlers that do not read count in the server-wide maxBufferedBytes. */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, Service } from '../../src/index';
import { startServer } from '../helpers/servers';
import { deferred, until } from '../helpers/wait';

const CHUNK_BYTES = 32 * 1024;
const CHUNKS = 64; // 2 MiB per upload
const UPLOADS = 4;
const BUDGET_BYTES = 512 * 1024;

@Service('Sink')
class Sink {
  opened = 0;
  gate = deferred<void>();

  @Method({ stream: 'client' }) async total(items: AsyncIterable<Uint8Array>): Promise<number> {
    this.opened++;
    await this.gate.promise; // does not read until the test lets it
    let bytes = 0;
    for await (const chunk of items) bytes += chunk.length;
    return bytes;
  }
}

function chunks(): AsyncGenerator<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < CHUNKS; i++) yield new Uint8Array(CHUNK_BYTES).fill(i);
  })();
}

describe('client-stream input and the server-wide budget', () => {
  test('items queued for handlers that do not read count in server.bufferedBytes, which stays near maxBufferedBytes; reading drains it to 0', async (t) => {
    const sink = new Sink();
    // A 1 MiB window per upload: without the budget, 4 uploads could queue 4 MiB.
    const s = await startServer([sink], { maxBufferedBytes: BUDGET_BYTES, streamWindowBytes: 1024 * 1024 });
    try {
      const uploads = Array.from({ length: UPLOADS }, () => s.client({ codec: 'msgpack' }).proxy(Sink).total(chunks()));
      for (const u of uploads) u.catch(() => undefined); // a failed assertion below must not leave them unhandled
      await until(() => sink.opened === UPLOADS, 5000, 'every upload to open');
      await until(() => s.server.bufferedBytes > BUDGET_BYTES / 2, 5000, 'queued input to be counted');
      let peak = 0;
      for (let i = 0; i < 20; i++) {
        peak = Math.max(peak, s.server.bufferedBytes);
        await new Promise((r) => setTimeout(r, 10));
      }
      // Over the budget a connection holding up to 64 KiB is still read, and each may hold the frame in
      // progress and one item more: far under the 4 MiB the windows alone would allow.
      assert.ok(
        peak <= BUDGET_BYTES + UPLOADS * (64 * 1024 + 2 * CHUNK_BYTES + 1024),
        `held ${peak} bytes over a ${BUDGET_BYTES}-byte budget`,
      );
      t.diagnostic(`peak server.bufferedBytes ${peak} with a ${BUDGET_BYTES}-byte budget`);
      sink.gate.resolve();
      assert.deepEqual(await Promise.all(uploads), Array(UPLOADS).fill(CHUNK_BYTES * CHUNKS));
      await until(() => s.server.bufferedBytes === 0, 2000, 'the budget to drain');
    } finally {
      await s.stop();
    }
  });
});
