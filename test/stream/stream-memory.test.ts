import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RpcClient } from '../../src/index';
import { forkListening } from '../helpers/processes';
import { Firehose } from './stream-child';

const ITEM_BYTES = 64 * 1024;
const ITEMS_READ = 200;
/** The consumer's pause per item: the producer, unthrottled, makes an item in far less. */
const CONSUMER_PAUSE_MS = 5;

describe('server stream memory with a slow consumer (real processes)', () => {
  test('a consumer far slower than its producer keeps both processes bounded: the producer runs at most a window ahead', async () => {
    const { child, port } = await forkListening(join(__dirname, 'stream-child.js'), ['serve']);
    const client = new RpcClient({ port, defaultTimeoutMs: 60_000 });
    try {
      const firehose = client.proxy(Firehose);
      const before = await firehose.stats();
      const clientHeapBefore = process.memoryUsage().heapUsed;
      let read = 0;
      let maxAhead = 0;
      let peakServerHeap = before.heapUsedBytes;
      let peakClientHeap = clientHeapBefore;
      for await (const item of firehose.flood(ITEM_BYTES)) {
        assert.equal(item.length, ITEM_BYTES);
        read++;
        await new Promise((r) => setTimeout(r, CONSUMER_PAUSE_MS));
        if (read % 20 === 0) {
          const s = await firehose.stats();
          maxAhead = Math.max(maxAhead, s.produced - read);
          peakServerHeap = Math.max(peakServerHeap, s.heapUsedBytes);
          peakClientHeap = Math.max(peakClientHeap, process.memoryUsage().heapUsed);
        }
        if (read >= ITEMS_READ) break;
      }
      // 1 MiB of byte credit is 16 items of 64 KiB: the window, plus the item the generator is suspended on.
      assert.ok(maxAhead <= 16 + 2, `the producer ran ${maxAhead} items ahead of the consumer`);
      const serverGrowth = peakServerHeap - before.heapUsedBytes;
      const clientGrowth = peakClientHeap - clientHeapBefore;
      // An unbounded producer would have queued ~100x the 12.5 MiB read; the window keeps both near a few MiB.
      assert.ok(serverGrowth < 48 * 1024 * 1024, `server heap grew ${serverGrowth} bytes`);
      assert.ok(clientGrowth < 48 * 1024 * 1024, `client heap grew ${clientGrowth} bytes`);
      console.log(
        `# slow consumer: read ${read} items of ${ITEM_BYTES} B; producer at most ${maxAhead} ahead; heap growth server ${(serverGrowth / 1048576).toFixed(1)} MiB, client ${(clientGrowth / 1048576).toFixed(1)} MiB`,
      );
    } finally {
      await client.close();
      child.kill();
    }
  });
});
