import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, Method, RpcCode, RpcError, Service, withOptions, type CallContext, type ServiceProxy } from '../../src/index';
import { startServer, type Started } from '../helpers/servers';
import { until } from '../helpers/wait';

@Service('Chat')
class Chat {
  finallyRan = 0;
  aborted: unknown[] = [];

  @Method({ stream: 'bidi' }) async *echo(messages: AsyncIterable<string>, prefix: string): AsyncGenerator<string> {
    try {
      for await (const m of messages) yield `${prefix}${m}`;
    } finally {
      this.finallyRan++;
    }
  }

  /** Answers the first `n` messages, then ends without reading more. */
  @Method({ stream: 'bidi' }) async *firstOf(messages: AsyncIterable<number>, n: number): AsyncGenerator<number> {
    let seen = 0;
    for await (const m of messages) {
      yield m * 10;
      if (++seen >= n) return;
    }
  }

  @Method({ stream: 'bidi' }) async *failAt(messages: AsyncIterable<number>, at: number): AsyncGenerator<number> {
    for await (const m of messages) {
      if (m === at) throw new RpcError(RpcCode.ABORTED, `gave up at ${m}`);
      yield m;
    }
  }

  @Method({ stream: 'bidi' }) async *watch(messages: AsyncIterable<number>, @Ctx() ctx: CallContext): AsyncGenerator<number> {
    ctx.signal.addEventListener('abort', () => this.aborted.push(ctx.signal.reason), { once: true });
    try {
      for await (const m of messages) yield m;
    } finally {
      this.finallyRan++;
    }
  }

  @Method() ping(): string {
    return 'pong';
  }
}

/** An endless source that records whether its `finally` ran; `pauseMs` between items. */
function source(pauseMs = 0): { items: AsyncGenerator<number>; closed: () => boolean } {
  let closed = false;
  const items = (async function* () {
    try {
      for (let i = 0; ; i++) {
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        yield i;
      }
    } finally {
      closed = true;
    }
  })();
  return { items, closed: () => closed };
}

describe('bidi streams over TCP', () => {
  let s: Started;
  let chat: Chat;
  let proxy: ServiceProxy<Chat>;
  before(async () => {
    chat = new Chat();
    s = await startServer([chat]);
    proxy = s.client().proxy(Chat);
  });
  after(() => s.stop());

  test('echo: every message comes back, in order, and the stream ends when the input ends', async () => {
    const sent = Array.from({ length: 500 }, (_, i) => `m${i}`);
    const got: string[] = [];
    for await (const reply of proxy.echo(sent, '> ')) got.push(reply);
    assert.deepEqual(
      got,
      sent.map((m) => `> ${m}`),
    );
  });

  test('replies arrive while the caller is still sending (a real conversation)', async () => {
    let release: (() => void) | undefined;
    const turns = (async function* () {
      for (let i = 0; i < 3; i++) {
        yield `q${i}`;
        await new Promise<void>((r) => (release = r)); // the next question waits for the answer
      }
    })();
    const answers: string[] = [];
    for await (const a of proxy.echo(turns, 'a:')) {
      answers.push(a);
      release?.();
    }
    assert.deepEqual(answers, ['a:q0', 'a:q1', 'a:q2']);
  });

  test("the caller leaving its loop early cancels the server's generator and closes the caller's iterable", async () => {
    const before = chat.finallyRan;
    const src = source();
    let n = 0;
    for await (const _ of proxy.watch(src.items)) if (++n >= 5) break;
    await until(() => chat.finallyRan > before, 2000, "the generator's finally");
    await until(() => src.closed(), 2000, 'the iterable to be closed');
  });

  test("the server ending early ends the caller's loop and closes the caller's iterable", async () => {
    const src = source();
    const got: number[] = [];
    for await (const x of proxy.firstOf(src.items, 3)) got.push(x);
    assert.deepEqual(got, [0, 10, 20]);
    await until(() => src.closed(), 2000, 'the iterable to be closed');
  });

  test('an error mid-stream reaches the caller after the items sent before it', async () => {
    const src = source();
    const got: number[] = [];
    await assert.rejects(
      async () => {
        for await (const x of proxy.failAt(src.items, 4)) got.push(x);
      },
      (err: RpcError) => err.code === RpcCode.ABORTED && /gave up at 4/.test(err.message),
    );
    assert.deepEqual(got, [0, 1, 2, 3]);
    await until(() => src.closed(), 2000, 'the iterable to be closed');
  });

  test('the deadline covers the whole stream on both sides', async () => {
    chat.aborted = [];
    const src = source(5);
    let n = 0;
    await assert.rejects(
      async () => {
        for await (const _ of withOptions(proxy, { timeoutMs: 150 }).watch(src.items)) n++;
      },
      (err: RpcError) => err.code === RpcCode.DEADLINE_EXCEEDED,
    );
    assert.ok(n > 0, 'some items came back before the deadline');
    await until(() => chat.aborted.length > 0, 2000, 'ctx.signal to abort');
    await until(() => src.closed(), 2000, 'the iterable to be closed');
    assert.equal(await proxy.ping(), 'pong');
  });

  test("the caller's iterable throwing fails the loop with CANCELLED and stops the server's generator", async () => {
    const before = chat.finallyRan;
    const broken = (async function* () {
      yield 1;
      yield 2;
      throw new Error('keyboard unplugged');
    })();
    const got: number[] = [];
    await assert.rejects(
      async () => {
        for await (const x of proxy.watch(broken)) got.push(x);
      },
      (err: RpcError) => err.code === RpcCode.CANCELLED && /keyboard unplugged/.test(err.message),
    );
    await until(() => chat.finallyRan > before, 2000, "the generator's finally");
  });
});
