import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
} from '../../src/index';
import { startServer } from '../helpers/servers';
import { rejection } from '../helpers/wait';

@Service('Echo')
class Echo {
  @Method()
  meta(@Ctx() ctx: CallContext): Record<string, string> {
    return { ...ctx.metadata };
  }

  @Method()
  add(a: number, b: number): number {
    return a + b;
  }
}

test('a client option adds metadata to every call; per-call metadata wins per key', async (t) => {
  const s = await startServer([new Echo()]);
  t.after(() => s.stop());
  const client = s.client({ metadata: { authorization: 'Bearer base', tenant: 'acme' } });
  const echo = client.proxy(Echo);
  assert.deepEqual(await echo.meta(), { authorization: 'Bearer base', tenant: 'acme' });
  assert.deepEqual(await withOptions(echo, { metadata: { authorization: 'Bearer mine' } }).meta(), {
    authorization: 'Bearer mine',
    tenant: 'acme',
  });
  assert.deepEqual(await client.call('Echo', 'meta', []), { authorization: 'Bearer base', tenant: 'acme' });
});

test('client interceptors add credentials, see the call, and run outermost first', async (t) => {
  const s = await startServer([new Echo()]);
  t.after(() => s.stop());
  const order: string[] = [];
  const seen: ClientCallInfo[] = [];
  const credentials: ClientInterceptor = (next) => async (call) => {
    order.push('credentials');
    call.metadata.authorization = 'Bearer from-interceptor';
    seen.push(call);
    return next(call);
  };
  const measure: ClientInterceptor = (next) => async (call) => {
    order.push('measure');
    const value = await next(call);
    order.push('measured');
    return value;
  };
  const echo = s.client({ interceptors: [credentials, measure] }).proxy(Echo);
  assert.deepEqual(await echo.meta(), { authorization: 'Bearer from-interceptor' });
  assert.deepEqual(order, ['credentials', 'measure', 'measured']);
  assert.equal(seen[0].service, 'Echo');
  assert.equal(seen[0].method, 'meta');
  assert.equal(seen[0].definition?.name, 'meta');
  assert.ok(seen[0].deadline > Date.now());
});

test('a client interceptor can short-circuit, change arguments and map errors', async (t) => {
  const s = await startServer([new Echo()]);
  t.after(() => s.stop());
  const offline: ClientInterceptor = () => async (call) => {
    throw new RpcError(RpcCode.UNAVAILABLE, `offline: ${call.method} not sent`, { mayHaveRun: false });
  };
  const err = await rejection(
    s
      .client({ interceptors: [offline] })
      .proxy(Echo)
      .add(1, 2),
  );
  assert.equal(err.code, RpcCode.UNAVAILABLE);
  assert.equal(err.message, 'offline: add not sent');
  const bump: ClientInterceptor = (next) => (call) => next({ ...call, args: [(call.args[0] as number) + 100, call.args[1]] });
  assert.equal(
    await s
      .client({ interceptors: [bump] })
      .proxy(Echo)
      .add(1, 2),
    103,
  );
});

test('ClusterClient interceptors see one call however many endpoints it tries; client.metadata reaches every endpoint', async (t) => {
  const a = await startServer([new Echo()]);
  const b = await startServer([new Echo()]);
  t.after(() => Promise.all([a.stop(), b.stop()]));
  let calls = 0;
  const count: ClientInterceptor = (next) => (call) => {
    calls++;
    call.metadata.trace = 'x';
    return next(call);
  };
  const cluster = new ClusterClient({
    endpoints: [
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: b.port },
    ],
    interceptors: [count],
    client: { metadata: { authorization: 'Bearer cluster' } },
  });
  t.after(() => cluster.close());
  const echo = cluster.proxy(Echo);
  for (let i = 0; i < 4; i++) assert.deepEqual(await echo.meta(), { authorization: 'Bearer cluster', trace: 'x' });
  assert.equal(calls, 4);
});
