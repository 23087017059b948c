import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, RpcCode, RpcError, Service, type ServerInterceptor } from '../../src/index';
import { startServer } from '../helpers/servers';

@Service('Numbers')
class Numbers {
  opened = 0;
  @Method() async *upTo(n: number): AsyncGenerator<number> {
    this.opened++;
    for (let i = 1; i <= n; i++) yield i;
  }
}

/** Refuses calls without a token; doubles every streamed item, to show interceptors may wrap the iterable. */
const guard: ServerInterceptor = (next) => async (call) => {
  if (call.context.metadata.token !== 'ok') throw new RpcError(RpcCode.UNAUTHENTICATED, 'no token');
  const result = await next(call);
  const source = result as AsyncIterable<number>;
  return (async function* () {
    for await (const x of source) yield x * 2;
  })();
};

describe('server interceptors around streams', () => {
  test('an interceptor that refuses a stream stops it before the handler runs; one that wraps it transforms items', async () => {
    const numbers = new Numbers();
    const s = await startServer([numbers], { interceptors: [guard] });
    try {
      const refused = await (async () => {
        for await (const _ of s.client().proxy(Numbers).upTo(3)) assert.fail('no item may arrive');
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(refused instanceof RpcError);
      assert.equal(refused.code, RpcCode.UNAUTHENTICATED);
      assert.equal(numbers.opened, 0);
      const items: number[] = [];
      for await (const x of s
        .client({ metadata: { token: 'ok' } })
        .proxy(Numbers)
        .upTo(3))
        items.push(x);
      assert.deepEqual(items, [2, 4, 6]);
    } finally {
      await s.stop();
    }
  });
});
