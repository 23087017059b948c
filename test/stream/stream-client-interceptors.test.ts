import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ClusterClient,
  Ctx,
  Method,
  RpcCode,
  RpcError,
  Service,
  withOptions,
  type CallContext,
  type ClientCallInfo,
  type ClientInterceptor,
  type ClientStreamResult,
} from '../../src/index';
import { startServer, type Started } from '../helpers/servers';
import { rejection, until } from '../helpers/wait';

@Service('Letters')
class Letters {
  finallyRan = 0;

  /** The call's metadata value under `key`, once per item. */
  @Method() async *tagged(key: string, n: number, @Ctx() ctx: CallContext): AsyncGenerator<string> {
    for (let i = 0; i < n; i++) yield `${ctx.metadata[key] ?? '<none>'}:${i}`;
  }

  @Method() async *numbers(@Ctx() ctx: CallContext): AsyncGenerator<number> {
    try {
      for (let i = 1; !ctx.signal.aborted; i++) yield i;
    } finally {
      this.finallyRan++;
    }
  }

  @Method() plain(): string {
    return 'one answer';
  }
}

/** Adds a tenant to every call's metadata and records what it saw. */
function tagging(seen: ClientCallInfo[]): ClientInterceptor {
  return (next) => async (call) => {
    seen.push(call);
    call.metadata.tenant = 'acme';
    return next(call);
  };
}

/** Multiplies every streamed answer that is a number by 10; unary calls and client streams (one result) pass through. */
const timesTen: ClientInterceptor = (next) => async (call) => {
  const result = await next(call);
  if (call.kind === 'unary' || call.kind === 'client') return result;
  const items = result as ClientStreamResult;
  return (async function* () {
    for await (const x of items) yield typeof x === 'number' ? x * 10 : x;
  })();
};

const refuse: ClientInterceptor = () => async (call) => {
  throw new RpcError(RpcCode.PERMISSION_DENIED, `${call.method}: refused on the client`, { mayHaveRun: false });
};

let s: Started;
let letters: Letters;

before(async () => {
  letters = new Letters();
  s = await startServer([letters]);
});
after(() => s.stop());

function opened(method: string): number {
  return s.server.debugSnapshot().methods.find((m) => m.method === method)?.streamsOpened ?? -1;
}

describe('client interceptors around streams', () => {
  test('an interceptor runs once as a stream opens, and the metadata it adds reaches the server', async () => {
    const seen: ClientCallInfo[] = [];
    const proxy = s.client({ interceptors: [tagging(seen)] }).proxy(Letters);
    const items: string[] = [];
    for await (const x of proxy.tagged('tenant', 3)) items.push(x);
    assert.deepEqual(items, ['acme:0', 'acme:1', 'acme:2']);
    assert.equal(seen.length, 1, 'once per stream, not per item');
    assert.deepEqual([seen[0].service, seen[0].method, seen[0].kind, seen[0].definition?.name], ['Letters', 'tagged', 'server', 'tagged']);
    assert.deepEqual(seen[0].args, ['tenant', 3]);
    assert.ok(seen[0].deadline > Date.now());
    assert.equal(await proxy.plain(), 'one answer');
    assert.equal(seen[1].kind, 'unary');
  });

  test('an interceptor on the untyped client.stream() sees kind server and no definition', async () => {
    const seen: ClientCallInfo[] = [];
    const client = s.client({ interceptors: [tagging(seen)] });
    const items: unknown[] = [];
    for await (const x of client.stream('Letters', 'tagged', ['tenant', 1])) items.push(x);
    assert.deepEqual(items, ['acme:0']);
    assert.deepEqual([seen[0].kind, seen[0].definition], ['server', undefined]);
  });

  test('a refusing interceptor stops the stream before anything is sent: no connection, no stream on the server', async () => {
    const connectionsBefore = s.server.connectionCount;
    const openedBefore = opened('numbers');
    const client = s.client({ interceptors: [refuse] });
    const err = await rejection(
      (async () => {
        for await (const _ of client.proxy(Letters).numbers()) assert.fail('no item may arrive');
      })(),
    );
    assert.equal(err.code, RpcCode.PERMISSION_DENIED);
    assert.equal(err.message, 'numbers: refused on the client');
    assert.equal(s.server.connectionCount, connectionsBefore, 'the client did not even connect');
    assert.equal(opened('numbers'), openedBefore);
  });

  test('a transforming interceptor changes the items, and leaving its loop early cancels the server generator', async () => {
    const ranBefore = letters.finallyRan;
    const items: number[] = [];
    for await (const x of s
      .client({ interceptors: [timesTen] })
      .proxy(Letters)
      .numbers()) {
      items.push(x);
      if (items.length === 4) break;
    }
    assert.deepEqual(items, [10, 20, 30, 40]);
    await until(() => letters.finallyRan === ranBefore + 1, 5000, "the server generator's finally");
    await until(() => s.server.debugSnapshot().server.streams.open === 0, 5000, 'no open stream on the server');
  });

  test('an interceptor sees a stream that fails mid-way, after the items, and the deadline still covers it', async () => {
    const errors: string[] = [];
    const observe: ClientInterceptor = (next) => async (call) => {
      const items = (await next(call)) as ClientStreamResult;
      return (async function* () {
        try {
          yield* items;
        } catch (err) {
          errors.push((err as RpcError).code);
          throw err;
        }
      })();
    };
    const proxy = withOptions(s.client({ interceptors: [observe] }).proxy(Letters), { timeoutMs: 100 });
    let count = 0;
    const err = await rejection(
      (async () => {
        for await (const _ of proxy.numbers()) if (++count % 64 === 0) await new Promise((r) => setTimeout(r, 20));
      })(),
    );
    assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
    assert.ok(count > 0);
    assert.deepEqual(errors, ['DEADLINE_EXCEEDED']);
  });

  test('an interceptor that resolves a stream call with something not iterable fails it with INTERNAL', async () => {
    const broken: ClientInterceptor = (next) => async (call) => {
      const items = (await next(call)) as ClientStreamResult;
      await items[Symbol.asyncIterator]().return?.();
      return 42;
    };
    const err = await rejection(
      (async () => {
        for await (const _ of s
          .client({ interceptors: [broken] })
          .proxy(Letters)
          .numbers())
          assert.fail('no item');
      })(),
    );
    assert.equal(err.code, RpcCode.INTERNAL);
    assert.match(err.message, /Letters\.numbers is a stream: the client interceptors must resolve with an AsyncIterable, got number/);
  });
});

describe('cluster interceptors around streams', () => {
  test('they run once per stream, outside endpoint picking: metadata reaches the server, items can be transformed, refusal sends nothing', async () => {
    const seen: ClientCallInfo[] = [];
    const cluster = new ClusterClient({
      endpoints: [{ host: '127.0.0.1', port: s.port }],
      interceptors: [tagging(seen), timesTen],
    });
    const refusing = new ClusterClient({ endpoints: [{ host: '127.0.0.1', port: s.port }], interceptors: [refuse] });
    try {
      const tags: string[] = [];
      for await (const x of cluster.proxy(Letters).tagged('tenant', 2)) tags.push(x);
      assert.deepEqual(tags, ['acme:0', 'acme:1']);
      const numbers: number[] = [];
      let openDuring = -1;
      for await (const x of cluster.proxy(Letters).numbers()) {
        openDuring = cluster.stats()[0].streams;
        if (numbers.push(x) === 3) break;
      }
      assert.deepEqual(numbers, [10, 20, 30]);
      assert.equal(openDuring, 1, 'cluster.stats() counts the open stream on its endpoint');
      assert.equal(cluster.stats()[0].streams, 0, 'and forgets it once the consumer left');
      assert.deepEqual(
        seen.map((c) => [c.method, c.kind]),
        [
          ['tagged', 'server'],
          ['numbers', 'server'],
        ],
      );
      const openedBefore = opened('numbers');
      const err = await rejection(
        (async () => {
          for await (const _ of refusing.proxy(Letters).numbers()) assert.fail('no item may arrive');
        })(),
      );
      assert.equal(err.code, RpcCode.PERMISSION_DENIED);
      assert.equal(opened('numbers'), openedBefore);
    } finally {
      await cluster.close();
      await refusing.close();
    }
  });
});

@Service('Inputs')
class Inputs {
  /** The sum of the items, tagged with the call's metadata. */
  @Method({ stream: 'client', params: [Number] })
  async sum(items: AsyncIterable<number>, @Ctx() ctx: CallContext): Promise<string> {
    let total = 0;
    for await (const x of items) total += x;
    return `${ctx.metadata.tenant ?? '<none>'}:${total}`;
  }

  @Method({ stream: 'bidi', params: [Number] })
  async *echo(items: AsyncIterable<number>): AsyncGenerator<number> {
    for await (const x of items) yield x;
  }
}

describe('client interceptors around client and bidi streams', () => {
  test('they run once, see kind and the input as args[0], add metadata, transform answers, and a refusal sends nothing', async () => {
    const inputs = await startServer([new Inputs()]);
    try {
      const seen: ClientCallInfo[] = [];
      const proxy = inputs.client({ interceptors: [tagging(seen), timesTen] }).proxy(Inputs);
      assert.equal(await proxy.sum([1, 2, 3]), 'acme:6');
      const echoed: number[] = [];
      for await (const x of proxy.echo([1, 2])) echoed.push(x);
      assert.deepEqual(echoed, [10, 20], 'a bidi stream resolves next with its answers, which the interceptor wrapped');
      assert.deepEqual(
        seen.map((c) => [c.method, c.kind, Array.isArray(c.args[0])]),
        [
          ['sum', 'client', true],
          ['echo', 'bidi', true],
        ],
      );
      const refused = inputs.client({ interceptors: [refuse] }).proxy(Inputs);
      assert.equal((await rejection(refused.sum([1]))).code, RpcCode.PERMISSION_DENIED);
      assert.equal(
        (
          await rejection(
            (async () => {
              for await (const _ of refused.echo([1])) assert.fail('no answer may arrive');
            })(),
          )
        ).code,
        RpcCode.PERMISSION_DENIED,
      );
      const cluster = new ClusterClient({ endpoints: [{ host: '127.0.0.1', port: inputs.port }], interceptors: [tagging(seen), timesTen] });
      try {
        const cp = cluster.proxy(Inputs);
        assert.equal(await cp.sum([4, 5]), 'acme:9', 'cluster interceptors run for client streams');
        const got: number[] = [];
        for await (const x of cp.echo([3])) got.push(x);
        assert.deepEqual(got, [30], 'and for bidi streams');
        assert.deepEqual(
          seen.slice(2).map((c) => [c.method, c.kind]),
          [
            ['sum', 'client'],
            ['echo', 'bidi'],
          ],
        );
      } finally {
        await cluster.close();
      }
      const rows = inputs.server.debugSnapshot().methods.filter((m) => m.service === 'Inputs');
      assert.deepEqual(
        rows.map((m) => [m.method, m.streamsOpened]),
        [
          ['sum', 2],
          ['echo', 2],
        ],
        'the refused calls never reached the server',
      );
    } finally {
      await inputs.stop();
    }
  });
});
