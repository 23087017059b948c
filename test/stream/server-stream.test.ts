import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Ctx,
  DEFAULT_STREAM_WINDOW_MESSAGES,
  Method,
  RpcCode,
  RpcError,
  Service,
  type CallContext,
  type ServiceProxy,
} from '../../src/index';
import { startServer, type Started } from '../helpers/servers';
import { deferred, until, type Deferred } from '../helpers/wait';

/** Streams that record how they ended, so tests can see the server's side of a cancel. */
@Service('Feed')
class Feed {
  finallyRan = 0;
  aborted: unknown[] = [];
  produced = 0;
  entered: Deferred<void> = deferred<void>();

  @Method() async *count(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
  }

  @Method() async *endless(@Ctx() ctx: CallContext): AsyncGenerator<number> {
    ctx.signal.addEventListener('abort', () => this.aborted.push(ctx.signal.reason), { once: true });
    try {
      this.entered.resolve();
      for (let i = 0; ; i++) {
        this.produced = i + 1;
        yield i;
      }
    } finally {
      this.finallyRan++;
    }
  }

  @Method() async *slowTicks(@Ctx() ctx: CallContext): AsyncGenerator<number> {
    try {
      for (let i = 0; ; i++) {
        yield i;
        await new Promise((r) => setTimeout(r, 20));
        if (ctx.signal.aborted) return;
      }
    } finally {
      this.finallyRan++;
    }
  }

  @Method() async *failAfter(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
    throw new RpcError(RpcCode.FAILED_PRECONDITION, `stopped after ${n}`);
  }

  /** Returns an AsyncIterable without being a generator: declared with `stream`. */
  @Method({ stream: 'server' }) letters(word: string): AsyncIterable<string> {
    const chars = [...word];
    return {
      async *[Symbol.asyncIterator]() {
        yield* chars;
      },
    };
  }

  @Method() ping(): string {
    return 'pong';
  }
}

async function collect<T>(items: AsyncIterable<T>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) {
    out.push(x);
    if (out.length >= limit) break;
  }
  return out;
}

describe('server streams over TCP', () => {
  let s: Started;
  let feed: Feed;
  let proxy: ServiceProxy<Feed>;
  before(async () => {
    feed = new Feed();
    s = await startServer([feed], { maxConcurrentCalls: 2000 });
    proxy = s.client().proxy(Feed);
  });
  after(() => s.stop());

  test('an async * method streams every item in order, then ends', async () => {
    assert.deepEqual(
      await collect(proxy.count(200)),
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.deepEqual(await collect(proxy.count(0)), []);
  });

  test('a method declared stream: server streams the AsyncIterable it returns', async () => {
    assert.deepEqual(await collect(proxy.letters('abc')), ['a', 'b', 'c']);
  });

  test('leaving for await early runs the generator finally and aborts ctx.signal', async () => {
    feed.finallyRan = 0;
    feed.aborted = [];
    assert.deepEqual(await collect(proxy.endless(), 5), [0, 1, 2, 3, 4]);
    await until(() => feed.finallyRan === 1, 5000, 'the generator finally');
    assert.equal((feed.aborted[0] as RpcError).code, RpcCode.CANCELLED);
    assert.equal(await proxy.ping(), 'pong');
  });

  test('the producer is not pulled past the window while the consumer does not read', async () => {
    feed.entered = deferred<void>();
    feed.produced = 0;
    const it = proxy.endless()[Symbol.asyncIterator]();
    assert.deepEqual(await it.next(), { value: 0, done: false });
    await new Promise((r) => setTimeout(r, 200));
    // The window's items of credit plus the one the generator is suspended at: never more, however long we wait.
    const window = DEFAULT_STREAM_WINDOW_MESSAGES;
    assert.ok(feed.produced <= window + 2, `generator advanced to ${feed.produced} with a ${window}-item window`);
    await it.return?.();
  });

  test('an error mid-stream reaches the consumer as an RpcError after the items already sent', async () => {
    const got: number[] = [];
    const err = await (async () => {
      try {
        for await (const x of proxy.failAfter(3)) got.push(x);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.deepEqual(got, [0, 1, 2]);
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, RpcCode.FAILED_PRECONDITION);
    assert.match(err.message, /stopped after 3/);
  });

  test('the deadline covers the whole stream: DEADLINE_EXCEEDED mid-stream, server finally runs', async () => {
    feed.finallyRan = 0;
    const got: number[] = [];
    const client = s.client({ defaultTimeoutMs: 300 });
    const err = await (async () => {
      for await (const x of client.proxy(Feed).slowTicks()) got.push(x);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
    assert.ok(got.length > 0, 'items before the deadline arrive');
    await until(() => feed.finallyRan === 1, 5000, 'the generator finally');
  });

  test('an AbortSignal cancels mid-stream with CANCELLED and stops the server generator', async () => {
    feed.finallyRan = 0;
    const controller = new AbortController();
    const got: number[] = [];
    const err = await (async () => {
      try {
        for await (const x of s.client().stream('Feed', 'slowTicks', [], { signal: controller.signal }) as AsyncIterable<number>) {
          got.push(x);
          if (got.length === 3) controller.abort();
        }
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, RpcCode.CANCELLED);
    assert.equal(got.length, 3);
    await until(() => feed.finallyRan === 1, 5000, 'the generator finally');
  });

  test('1,000 concurrent streams on one connection each get all their items', async () => {
    const client = s.client();
    const lists = await Promise.all(Array.from({ length: 1000 }, () => collect(client.proxy(Feed).count(10))));
    for (const l of lists) assert.deepEqual(l, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('unary calls keep flowing beside a saturating stream on the same connection', async () => {
    const client = s.client();
    const p = client.proxy(Feed);
    let stop = false;
    let items = 0;
    const drain = (async () => {
      for await (const _ of p.endless()) {
        items++;
        if (stop) break;
      }
    })();
    for (let i = 0; i < 50; i++) assert.equal(await p.ping(), 'pong');
    stop = true;
    await drain;
    assert.ok(items > 0);
  });
});
