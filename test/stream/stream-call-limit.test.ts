/** Streams and maxConcurrentCalls: open streams keep being read at the limit, and requests over it are refused. */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, RpcCode, Service } from '../../src/index';
import { startServer } from '../helpers/servers';
import { deferred, rejection, until } from '../helpers/wait';

@Service('Limited')
class Limited {
  open = 0;
  release = deferred<void>();

  @Method({ stream: 'client' }) async sum(items: AsyncIterable<number>): Promise<number> {
    this.open++;
    let t = 0;
    for await (const n of items) t += n;
    return t;
  }

  @Method() async add(a: number, b: number): Promise<number> {
    await Promise.resolve();
    return a + b;
  }
}

/** Items that trickle in, so the uploads are still open when the limit is reached. */
function trickle(n: number, gate: Promise<void>): AsyncGenerator<number> {
  return (async function* () {
    for (let i = 0; i < n; i++) {
      if (i === 10) await gate;
      yield 1;
    }
  })();
}

describe('streams at maxConcurrentCalls', () => {
  test('uploads that fill the limit still receive their items and complete; a request over it is refused with notRun', async () => {
    const limited = new Limited();
    const s = await startServer([limited], { maxConcurrentCalls: 2 });
    try {
      const proxy = s.client().proxy(Limited);
      const gate = deferred<void>();
      const uploads = [proxy.sum(trickle(500, gate.promise)), proxy.sum(trickle(500, gate.promise))];
      await until(() => limited.open === 2, 2000, 'both uploads to open');
      const over = await rejection(proxy.add(2, 3));
      assert.equal(over.code, RpcCode.RESOURCE_EXHAUSTED);
      assert.match(over.message, /2 calls are running on this connection \(maxConcurrentCalls\), streams among them/);
      assert.equal(over.mayHaveRun, false);
      gate.resolve();
      assert.deepEqual(await Promise.all(uploads), [500, 500]);
      assert.equal(await proxy.add(2, 3), 5);
    } finally {
      await s.stop();
    }
  });
});
