import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Ctx,
  Method,
  RpcClient,
  RpcCode,
  RpcError,
  RpcServer,
  Service,
  Use,
  mapErrors,
  type CallContext,
  type ServerInterceptor,
  type ServerCallInfo,
} from '../../src/index';
import { startServer } from '../helpers/servers';
import { rejection, until } from '../helpers/wait';

const log: string[] = [];
const tag =
  (name: string): ServerInterceptor =>
  (next) =>
  async (call) => {
    log.push(`${name}>`);
    try {
      return await next(call);
    } finally {
      log.push(`<${name}`);
    }
  };

class OutOfStock extends Error {}
class Missing extends Error {}

@Service('Shop')
@Use(tag('class'))
class Shop {
  @Method({ meta: { roles: ['admin'] } })
  @Use(tag('method'))
  restock(count: number): number {
    log.push('handler');
    return count + 1;
  }

  @Method()
  buy(item: string): string {
    if (item === 'gold') throw new OutOfStock('no gold left');
    if (item === 'unicorn') throw new Missing('no such item');
    if (item === 'bug') throw new Error('secret internals');
    return `bought ${item}`;
  }

  @Method()
  whoAmI(@Ctx() ctx: CallContext): unknown {
    return { principal: ctx.principal, peer: typeof ctx.peer };
  }
}

test('server interceptors run global, then class, then method, around the handler, and unwind in reverse', async (t) => {
  log.length = 0;
  const s = await startServer([new Shop()], { interceptors: [tag('global1'), tag('global2')] });
  t.after(() => s.stop());
  assert.equal(await s.client().call('Shop', 'restock', [1]), 2);
  assert.deepEqual(log, ['global1>', 'global2>', 'class>', 'method>', 'handler', '<method', '<class', '<global2', '<global1']);
});

test('an interceptor that does not call next short-circuits: the handler never runs and its error reaches the caller', async (t) => {
  log.length = 0;
  const deny: ServerInterceptor = () => async (call) => {
    throw new RpcError(RpcCode.PERMISSION_DENIED, `no ${call.method} today`);
  };
  const s = await startServer([new Shop()], { interceptors: [deny] });
  t.after(() => s.stop());
  const err = await rejection(s.client().call('Shop', 'restock', [1]));
  assert.equal(err.code, RpcCode.PERMISSION_DENIED);
  assert.equal(err.message, 'no restock today');
  assert.ok(!log.includes('handler'));
  assert.equal(
    await s
      .client()
      .call('Shop', 'restock', [1])
      .catch((e: RpcError) => e.code),
    RpcCode.PERMISSION_DENIED,
  );
});

test('an interceptor can answer instead of the handler and rewrite the result', async (t) => {
  const cached: ServerInterceptor = (next) => async (call) => (call.method === 'buy' ? 'from cache' : next(call));
  const doubled: ServerInterceptor = (next) => async (call) => ((await next(call)) as number) * 2;
  const s = await startServer([new Shop()], { interceptors: [cached, doubled] });
  t.after(() => s.stop());
  assert.equal(await s.client().call('Shop', 'buy', ['tea']), 'from cache');
  assert.equal(await s.client().call('Shop', 'restock', [4]), 10);
});

test('interceptors see the per-method meta, definition, metadata, peer and transport', async (t) => {
  const seen: ServerCallInfo[] = [];
  const spy: ServerInterceptor = (next) => async (call) => {
    seen.push(call);
    return next(call);
  };
  const s = await startServer([new Shop()], { interceptors: [spy] });
  t.after(() => s.stop());
  await s.client({ metadata: { tenant: 'acme' } }).call('Shop', 'restock', [1]);
  await s.client().call('Shop', 'buy', ['tea']);
  assert.deepEqual(seen[0].meta, { roles: ['admin'] });
  assert.deepEqual(seen[1].meta, {});
  assert.equal(seen[0].definition.name, 'restock');
  assert.equal(seen[0].context.metadata.tenant, 'acme');
  assert.match(seen[0].context.peer, /^127\.0\.0\.1:\d+$/);
  assert.equal(seen[0].transport, 'tcp');
  assert.ok(seen[0].context.deadline > Date.now());
  assert.equal(seen[0].context.signal.aborted, false);
});

test('interceptors run before argument checks, so a refused caller never learns what validation says', async (t) => {
  const deny: ServerInterceptor = () => async () => {
    throw new RpcError(RpcCode.UNAUTHENTICATED, 'who are you');
  };
  const s = await startServer([new Shop()], { interceptors: [deny] });
  t.after(() => s.stop());
  const err = await rejection(s.client().call('Shop', 'restock', ['not a number']));
  assert.equal(err.code, RpcCode.UNAUTHENTICATED);
});

test('arguments still go through validation inside the chain', async (t) => {
  const s = await startServer([new Shop()], { interceptors: [tag('g')] });
  t.after(() => s.stop());
  const err = await rejection(s.client().call('Shop', 'restock', ['not a number']));
  assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
  assert.equal(await s.client().call('Shop', 'restock', [2]), 3, 'the server goes on serving');
});

test('mapErrors turns domain error classes into RpcError codes and leaves other errors INTERNAL', async (t) => {
  const mapping = mapErrors([
    [OutOfStock, RpcCode.FAILED_PRECONDITION],
    [Missing, (e) => new RpcError(RpcCode.NOT_FOUND, `lookup failed: ${e.message}`)],
  ]);
  const handlerErrors: unknown[] = [];
  const s = await startServer([new Shop()], { interceptors: [mapping] });
  s.server.on('handlerError', (err) => handlerErrors.push(err));
  t.after(() => s.stop());
  const c = s.client();
  const stock = await rejection(c.call('Shop', 'buy', ['gold']));
  assert.equal(stock.code, RpcCode.FAILED_PRECONDITION);
  assert.equal(stock.message, 'no gold left');
  const missing = await rejection(c.call('Shop', 'buy', ['unicorn']));
  assert.equal(missing.code, RpcCode.NOT_FOUND);
  assert.equal(missing.message, 'lookup failed: no such item');
  const bug = await rejection(c.call('Shop', 'buy', ['bug']));
  assert.equal(bug.code, RpcCode.INTERNAL);
  assert.doesNotMatch(bug.message, /secret/);
  assert.equal(handlerErrors.length, 1, 'only the unmapped error is logged as a handler error');
});

test('mapErrors refuses a rule that is not [class, code]', () => {
  assert.throws(() => mapErrors([['OutOfStock' as never, RpcCode.NOT_FOUND]]), RangeError);
});

test('an interceptor that throws synchronously fails the call, not the server', async (t) => {
  const broken: ServerInterceptor = () =>
    (() => {
      throw new TypeError('bug in interceptor');
    }) as never;
  const s = await startServer([new Shop()], { interceptors: [broken] });
  t.after(() => s.stop());
  const err = await rejection(s.client().call('Shop', 'buy', ['tea']));
  assert.equal(err.code, RpcCode.INTERNAL);
  assert.equal((await rejection(s.client().call('Shop', 'buy', ['tea']))).code, RpcCode.INTERNAL, 'still serving');
});

test('server.use() adds interceptors to services registered before it', async (t) => {
  log.length = 0;
  const s = await startServer([new Shop()]);
  t.after(() => s.stop());
  assert.equal(await s.client().call('Shop', 'buy', ['tea']), 'bought tea');
  s.server.use(tag('late'));
  await s.client().call('Shop', 'buy', ['tea']);
  assert.deepEqual(
    log.filter((l) => l.includes('late')),
    ['late>', '<late'],
  );
});

test('a call whose interceptor never settles still ends at its deadline', async (t) => {
  const stuck: ServerInterceptor = () => () => new Promise(() => undefined);
  const s = await startServer([new Shop()], { interceptors: [stuck] });
  t.after(() => s.stop());
  const err = await rejection(s.client().call('Shop', 'buy', ['tea'], { timeoutMs: 150 }));
  assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
  await until(() => s.server.inFlight === 0, 2000, 'the server to end the stuck call');
});

test('bad interceptor options are a RangeError naming the option', () => {
  assert.throws(() => new RpcServer({ interceptors: 'auth' as never }), /interceptors must be an array/);
  assert.throws(() => new RpcServer({ interceptors: [null as never] }), /interceptors\[0\] must be an interceptor function/);
  assert.throws(() => new RpcServer().use({} as never), /use\(\)\[0\]/);
  assert.throws(() => new RpcClient({ port: 1, interceptors: [42 as never] }), /interceptors\[0\]/);
  assert.throws(() => Use('nope' as never), /@Use\(\)\[0\]/);
});
