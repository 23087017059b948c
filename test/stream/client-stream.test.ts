import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { IsInt, Min } from 'class-validator';
import { Ctx, Method, RpcCode, RpcError, Service, type CallContext, type ServiceProxy } from '../../src/index';
import { startServer, type Started } from '../helpers/servers';
import { deferred, rejection, until, type Deferred } from '../helpers/wait';

class Reading {
  @IsInt() @Min(0) celsius!: number;

  /** Only a real instance has it: shows the item was transformed into the class. */
  get kelvin(): number {
    return this.celsius + 273;
  }
}

/** Handlers that record how their input ended, so tests can see the server's side. */
@Service('Upload')
class Upload {
  inputErrors: unknown[] = [];
  aborted: unknown[] = [];
  gate: Deferred<void> = deferred<void>();
  entered: Deferred<void> = deferred<void>();

  @Method({ stream: 'client' }) async sum(items: AsyncIterable<number>): Promise<number> {
    let total = 0;
    for await (const n of items) total += n;
    return total;
  }

  @Method({ stream: 'client' }) async join(parts: AsyncIterable<string>, separator: string): Promise<string> {
    const all: string[] = [];
    for await (const p of parts) all.push(p);
    return all.join(separator);
  }

  /** Reads nothing until the gate opens, then counts. */
  @Method({ stream: 'client' }) async gated(items: AsyncIterable<number>): Promise<number> {
    this.entered.resolve();
    await this.gate.promise;
    let n = 0;
    for await (const _ of items) n++;
    return n;
  }

  /** Takes the first `n` items and answers without reading the rest. */
  @Method({ stream: 'client' }) async firstOf(items: AsyncIterable<number>, n: number): Promise<number[]> {
    const taken: number[] = [];
    for await (const x of items) {
      taken.push(x);
      if (taken.length >= n) break;
    }
    return taken;
  }

  @Method({ stream: 'client' }) async failAt(items: AsyncIterable<number>, at: number): Promise<number> {
    for await (const x of items) if (x === at) throw new RpcError(RpcCode.FAILED_PRECONDITION, `refused item ${x}`);
    return -1;
  }

  /** Reads until its input fails, and records why (and whether ctx.signal aborted). */
  @Method({ stream: 'client' }) async watch(items: AsyncIterable<number>, @Ctx() ctx: CallContext): Promise<number> {
    ctx.signal.addEventListener('abort', () => this.aborted.push(ctx.signal.reason), { once: true });
    this.entered.resolve();
    let n = 0;
    try {
      for await (const _ of items) n++;
    } catch (err) {
      this.inputErrors.push(err);
      throw err;
    }
    return n;
  }

  @Method({ stream: 'client', params: [Number] }) async total(items: AsyncIterable<number>): Promise<number> {
    let t = 0;
    for await (const n of items) t += n;
    return t;
  }

  @Method({ stream: 'client', params: [Uint8Array] }) async bytes(chunks: AsyncIterable<Uint8Array>): Promise<string[]> {
    const kinds: string[] = [];
    for await (const c of chunks) kinds.push(Buffer.isBuffer(c) ? `buffer:${c.length}` : typeof c);
    return kinds;
  }

  @Method({ stream: 'client', params: [Reading] }) async readings(items: AsyncIterable<Reading>): Promise<number[]> {
    const out: number[] = [];
    for await (const r of items) out.push(r.kelvin);
    return out;
  }

  @Method() ping(): string {
    return 'pong';
  }
}

/** An iterable that counts how far it was pulled and whether its `finally` ran. */
function counted(limit = Infinity, throwAt = -1): { items: AsyncGenerator<number>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  const items = (async function* () {
    try {
      for (let i = 0; i < limit; i++) {
        if (i === throwAt) throw new Error(`source broke at ${i}`);
        pulled++;
        yield i;
      }
    } finally {
      closed = true;
    }
  })();
  return { items, pulled: () => pulled, closed: () => closed };
}

describe('client streams over TCP', () => {
  let s: Started;
  let up: Upload;
  let proxy: ServiceProxy<Upload>;
  before(async () => {
    up = new Upload();
    s = await startServer([up], { streamWindowMessages: 64 }); // the window the counts below were written for
    proxy = s.client().proxy(Upload);
  });
  after(() => s.stop());
  const fresh = (): void => {
    up.inputErrors = [];
    up.aborted = [];
    up.gate = deferred<void>();
    up.entered = deferred<void>();
  };

  test('the handler receives the items in order and its result comes back', async () => {
    assert.equal(await proxy.sum(counted(100).items), 4950);
    assert.equal(await proxy.join(['a', 'b', 'c'], '-'), 'a-b-c');
    assert.equal(await proxy.sum([]), 0);
  });

  test('the client does not pull its iterable beyond the credit the server granted', async () => {
    fresh();
    const src = counted(1000);
    const result = proxy.gated(src.items);
    await up.entered.promise;
    await until(() => src.pulled() >= 64, 2000, 'the first window to be sent');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(src.pulled() <= 65, `pulled ${src.pulled()} items with a window of 64`);
    up.gate.resolve();
    assert.equal(await result, 1000);
  });

  test('a handler that answers before reading everything stops the pulling and closes the iterable', async () => {
    const src = counted();
    assert.deepEqual(await proxy.firstOf(src.items, 3), [0, 1, 2]);
    await until(() => src.closed(), 2000, 'the iterable to be closed');
    assert.ok(src.pulled() < 200, `pulled ${src.pulled()}`);
    assert.equal(await proxy.ping(), 'pong');
  });

  test('a handler that throws fails the call with its error and closes the iterable', async () => {
    const src = counted();
    const err = await rejection(proxy.failAt(src.items, 5));
    assert.equal(err.code, RpcCode.FAILED_PRECONDITION);
    assert.match(err.message, /refused item 5/);
    await until(() => src.closed(), 2000, 'the iterable to be closed');
  });

  test("the caller's iterable throwing cancels the call: the handler's loop throws CANCELLED and ctx.signal aborts", async () => {
    fresh();
    const err = await rejection(proxy.watch(counted(Infinity, 10).items));
    assert.equal(err.code, RpcCode.CANCELLED);
    assert.match(err.message, /request stream threw after 10 items: source broke at 10/);
    await until(() => up.inputErrors.length > 0 && up.aborted.length > 0, 2000, 'the handler to see the cancel');
    assert.equal((up.inputErrors[0] as RpcError).code, RpcCode.CANCELLED);
    assert.equal(await proxy.ping(), 'pong');
  });

  test('the deadline covers the whole call: DEADLINE_EXCEEDED, the handler aborted, the iterable closed', async () => {
    fresh();
    const src = counted();
    const slow = (async function* () {
      for await (const x of src.items) {
        await new Promise((r) => setTimeout(r, 5));
        yield x;
      }
    })();
    const err = await rejection(s.client().proxy(Upload, { timeoutMs: 200 }).watch(slow));
    assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
    await until(() => up.aborted.length > 0, 2000, 'ctx.signal to abort');
    await until(() => src.closed(), 2000, 'the iterable to be closed');
  });

  test('an AbortSignal cancels the upload on both sides', async () => {
    fresh();
    const ac = new AbortController();
    const src = counted();
    const slow = (async function* () {
      for await (const x of src.items) {
        await new Promise((r) => setTimeout(r, 2));
        yield x;
      }
    })();
    const call = s.client().proxy(Upload, { signal: ac.signal }).watch(slow);
    await up.entered.promise;
    ac.abort();
    const err = await rejection(call);
    assert.equal(err.code, RpcCode.CANCELLED);
    await until(() => up.inputErrors.length > 0, 2000, 'the handler loop to throw');
    assert.equal((up.inputErrors[0] as RpcError).code, RpcCode.CANCELLED);
    assert.ok(up.aborted.length > 0);
  });

  test('a lost connection fails the call with UNAVAILABLE and the handler loop with UNAVAILABLE', async () => {
    fresh();
    let socket: Socket | undefined;
    const client = s.client({ createConnection: (o) => (socket = connect(o)) });
    const never = (async function* () {
      yield 1;
      await new Promise(() => undefined);
    })();
    const call = client.proxy(Upload).watch(never);
    await up.entered.promise;
    await until(() => socket, 1000, 'the socket');
    socket?.destroy();
    const err = await rejection(call);
    assert.equal(err.code, RpcCode.UNAVAILABLE);
    await until(() => up.inputErrors.length > 0, 2000, 'the handler loop to throw');
    assert.equal((up.inputErrors[0] as RpcError).code, RpcCode.UNAVAILABLE);
  });

  test('items are checked against params: a bad item fails the call with INVALID_ARGUMENT', async () => {
    const err = await rejection(proxy.total([1, 2, 'three' as unknown as number]));
    assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
    assert.match(err.message, /invalid stream item for Upload\.total: items\[2\] must be a number/);
    assert.equal(await proxy.total([1, 2, 3]), 6);
  });

  test('DTO items are transformed and validated one by one, and a bad one fails the call with its constraint', async () => {
    assert.deepEqual(await proxy.readings([{ celsius: 0 }, { celsius: 27 }] as Reading[]), [273, 300]);
    const err = await rejection(proxy.readings([{ celsius: 1 }, { celsius: -5 }] as Reading[]));
    assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
    assert.match(err.message, /invalid stream item for Upload\.readings/);
    assert.ok(
      err.details?.some((d) => d.constraint === 'min'),
      JSON.stringify(err.details),
    );
  });

  test('byte items declared with params: [Uint8Array] arrive as Buffers over JSON', async () => {
    assert.deepEqual(await proxy.bytes([new Uint8Array([1, 2, 3]), Buffer.from('hello')]), ['buffer:3', 'buffer:5']);
  });

  test('a first argument that is not iterable is refused before anything is sent', async () => {
    const err = await rejection(proxy.sum(42 as unknown as number[]));
    assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
    assert.match(err.message, /Upload\.sum: the first argument must be an AsyncIterable or an Iterable/);
    assert.equal(await proxy.ping(), 'pong');
  });
});

describe('client streams called the wrong way', () => {
  test('calling a client stream method by name as a unary call fails at once with INVALID_ARGUMENT, not at its deadline', async () => {
    const s = await startServer([new Upload()]);
    try {
      const client = s.client();
      const err = await rejection(client.call('Upload', 'sum', [], { timeoutMs: 10_000 }));
      assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
      assert.match(err.message, /Upload\.sum takes a stream of items as its first argument: call it through a proxy/);
      assert.equal(await client.proxy(Upload).ping(), 'pong');
    } finally {
      await s.stop();
    }
  });
});

describe('client stream items that cannot go', () => {
  test("an item over the server's frame limit fails the call with RESOURCE_EXHAUSTED; one that cannot be encoded with INVALID_ARGUMENT", async () => {
    const s = await startServer([new Upload()], { maxFrameBytes: 1024 });
    try {
      const proxy = s.client().proxy(Upload);
      const big = await rejection(proxy.join(['small', 'x'.repeat(2000)], ','));
      assert.equal(big.code, RpcCode.RESOURCE_EXHAUSTED);
      assert.match(big.message, /Upload\.join: a stream item of 2002 bytes exceeds the server's frame limit of 1024 bytes/);
      const odd = await rejection(proxy.sum([1, 2n as unknown as number]));
      assert.equal(odd.code, RpcCode.INVALID_ARGUMENT);
      assert.match(odd.message, /Upload\.sum: a stream item could not be encoded/);
      assert.equal(await proxy.ping(), 'pong');
    } finally {
      await s.stop();
    }
  });
});
