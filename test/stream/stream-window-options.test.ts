import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, RpcClient, RpcServer, Service } from '../../src/index';
import { startServer } from '../helpers/servers';
import { deferred, until } from '../helpers/wait';

@Service('Win')
class Win {
  produced = 0;
  gate = deferred<void>();
  entered = deferred<void>();

  @Method({ stream: 'client' }) async gated(items: AsyncIterable<number>): Promise<number> {
    this.entered.resolve();
    await this.gate.promise;
    let n = 0;
    for await (const _ of items) n++;
    return n;
  }

  @Method() async *produce(): AsyncGenerator<number> {
    for (let i = 0; i < 1000; i++) {
      this.produced++;
      yield i;
    }
  }
}

function pulledCounter(total: number): { items: AsyncGenerator<number>; pulled: () => number } {
  let pulled = 0;
  const items = (async function* () {
    for (let i = 0; i < total; i++) {
      pulled++;
      yield i;
    }
  })();
  return { items, pulled: () => pulled };
}

describe('stream window options', () => {
  test('bad window options are a RangeError naming the option, on the server and on the client', () => {
    for (const [name, value] of [
      ['streamWindowMessages', 0],
      ['streamWindowMessages', 1.5],
      ['streamWindowMessages', 65537],
      ['streamWindowBytes', 1023],
      ['streamWindowBytes', 2 ** 30 + 1],
      ['streamWindowBytes', '1MB'],
    ] as const) {
      assert.throws(
        () => new RpcServer({ [name]: value }),
        (e: unknown) => e instanceof RangeError && e.message.startsWith(`${name} must be`),
      );
      assert.throws(
        () => new RpcClient({ port: 1, [name]: value }),
        (e: unknown) => e instanceof RangeError && e.message.startsWith(`${name} must be`),
      );
    }
  });

  test("the server's window bounds how far the client pulls a client stream's iterable", async () => {
    const win = new Win();
    const s = await startServer([win], { streamWindowMessages: 4 });
    try {
      const src = pulledCounter(100);
      const result = s.client().proxy(Win).gated(src.items);
      await win.entered.promise;
      await until(() => src.pulled() >= 4, 2000, 'the first window');
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(src.pulled() <= 5, `pulled ${src.pulled()} with a window of 4`);
      win.gate.resolve();
      assert.equal(await result, 100);
    } finally {
      await s.stop();
    }
  });

  test("the client's window bounds how far the server runs a server stream's generator", async () => {
    const win = new Win();
    const s = await startServer([win]);
    try {
      const it = s.client({ streamWindowMessages: 4 }).proxy(Win).produce()[Symbol.asyncIterator]();
      assert.deepEqual(await it.next(), { value: 0, done: false });
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(win.produced <= 5, `produced ${win.produced} with a window of 4`);
      let n = 1;
      while (!(await it.next()).done) n++;
      assert.equal(n, 1000);
    } finally {
      await s.stop();
    }
  });
});
