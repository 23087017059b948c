import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RpcClient } from '../../src/index';
import { forkListening } from '../helpers/processes';
import { collectGarbage, Sink } from './upload-child';

const CHUNK_BYTES = 64 * 1024;
const TOTAL_BYTES = 100 * 1024 * 1024;
const CHUNKS = TOTAL_BYTES / CHUNK_BYTES;
const MiB = 1024 * 1024;

describe('client stream memory: a 100 MiB upload to a slow handler (real processes)', () => {
  test('the client pulls its chunks only as the server grants credit, and both processes stay bounded', async () => {
    const { child, port } = await forkListening(join(__dirname, 'upload-child.js'), ['serve']);
    const client = new RpcClient({ port, codec: 'msgpack', defaultTimeoutMs: 120_000 });
    try {
      const sink = client.proxy(Sink);
      const before = await sink.stats();
      collectGarbage();
      const clientBefore = process.memoryUsage();
      let pulled = 0;
      let maxAhead = 0;
      let peakClientHeap = clientBefore.heapUsed;
      let peakClientRss = clientBefore.rss;
      let peakClientBuffers = clientBefore.arrayBuffers;
      const chunks = async function* (): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < CHUNKS; i++) {
          pulled++;
          if (i % 100 === 0) {
            const s = await sink.stats();
            maxAhead = Math.max(maxAhead, pulled - s.receivedChunks);
            collectGarbage();
            const m = process.memoryUsage();
            peakClientHeap = Math.max(peakClientHeap, m.heapUsed);
            peakClientRss = Math.max(peakClientRss, m.rss);
            peakClientBuffers = Math.max(peakClientBuffers, m.arrayBuffers);
          }
          yield Buffer.alloc(CHUNK_BYTES, i % 251); // a fresh chunk each time, as a file reader would make
        }
      };
      assert.equal(await sink.upload(chunks()), TOTAL_BYTES);
      const after = await sink.stats();
      const serverHeapGrowth = after.peakHeapBytes - before.heapUsedBytes;
      const serverRssGrowth = after.peakRssBytes - before.rssBytes;
      const clientHeapGrowth = peakClientHeap - clientBefore.heapUsed;
      const clientRssGrowth = peakClientRss - clientBefore.rss;
      const serverBufferGrowth = after.peakArrayBufferBytes - before.arrayBufferBytes;
      const clientBufferGrowth = peakClientBuffers - clientBefore.arrayBuffers;
      // The window is 1 MiB of bytes (16 chunks of 64 KiB, a little over with msgpack's headers) or 64 items.
      assert.ok(maxAhead <= 17 + 1, `the client pulled ${maxAhead} chunks ahead of the handler`);
      // Unbounded, the whole 100 MiB would sit in one process or the other; the window keeps both near a few MiB
      // (live, after a full GC before each sample).
      assert.ok(serverHeapGrowth < 32 * MiB, `server heap grew ${serverHeapGrowth} bytes`);
      assert.ok(clientHeapGrowth < 32 * MiB, `client heap grew ${clientHeapGrowth} bytes`);
      // What is live of the chunks themselves: a fixed amount on each side, not the 100 MiB (measured about
      // 12 MiB for uploads of 100 and of 200 MiB alike: the window plus socket and codec buffers).
      assert.ok(serverBufferGrowth < 24 * MiB, `server Buffer memory grew ${serverBufferGrowth} bytes`);
      assert.ok(clientBufferGrowth < 24 * MiB, `client Buffer memory grew ${clientBufferGrowth} bytes`);
      assert.ok(serverRssGrowth < 80 * MiB, `server RSS grew ${serverRssGrowth} bytes`);
      console.log(
        `# 100 MiB upload in ${CHUNKS} chunks of ${CHUNK_BYTES} B: client at most ${maxAhead} chunks ahead; ` +
          `heap growth server ${(serverHeapGrowth / MiB).toFixed(1)} MiB, client ${(clientHeapGrowth / MiB).toFixed(1)} MiB; ` +
          `Buffer growth server ${(serverBufferGrowth / MiB).toFixed(1)} MiB, client ${(clientBufferGrowth / MiB).toFixed(1)} MiB; ` +
          `RSS growth server ${(serverRssGrowth / MiB).toFixed(1)} MiB, client ${(clientRssGrowth / MiB).toFixed(1)} MiB`,
      );
    } finally {
      await client.close();
      child.kill();
    }
  });
});
