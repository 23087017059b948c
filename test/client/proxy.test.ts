import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, RpcCode, RpcError, Service, withOptions, type CallContext, Ctx } from '../../src/index';
import { startServer, type Started } from '../helpers/servers';

@Service('Greeter')
class GreeterContract {
  @Method() greet(name: string): string {
    throw new RpcError(RpcCode.UNIMPLEMENTED, `contract ${name}`);
  }
  @Method() meta(@Ctx() ctx: CallContext): Record<string, string> {
    return ctx.metadata;
  }
  local(): string {
    return 'local only';
  }
}

class Greeter extends GreeterContract {
  override greet(name: string): string {
    return `hello ${name}`;
  }
  override meta(ctx: CallContext): Record<string, string> {
    return { ...ctx.metadata, peerKnown: String(/^127\.0\.0\.1:\d+$/.test(ctx.peer)) };
  }
}

describe('typed proxy', () => {
  let s: Started;
  before(async () => {
    s = await startServer([new Greeter()]);
  });
  after(() => s.stop());

  test('a client built from the contract class calls the implementation', async () => {
    const greeter = s.client().proxy(GreeterContract);
    assert.equal(await greeter.greet('ada'), 'hello ada');
  });

  test('await proxy does not hang: the proxy is not a thenable', async () => {
    const greeter = s.client().proxy(GreeterContract);
    const awaited = await greeter;
    assert.equal(awaited, greeter);
    assert.equal((greeter as unknown as { then?: unknown }).then, undefined);
  });

  test('calling a member that is not an @Method throws a clear TypeError', () => {
    const greeter = s.client().proxy(GreeterContract);
    assert.throws(() => greeter.local(), /Greeter\.local is not an @Method/);
  });

  test('many calls share one connection and answers may arrive in any order', async () => {
    const client = s.client();
    const greeter = client.proxy(GreeterContract);
    let connects = 0;
    client.on('connect', () => connects++);
    const names = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const results = await Promise.all(names.map((n) => greeter.greet(n)));
    assert.deepEqual(
      results,
      names.map((n) => `hello ${n}`),
    );
    assert.equal(connects, 1);
  });

  test('withOptions carries metadata, merged over the proxy defaults', async () => {
    const client = s.client();
    const base = client.proxy(GreeterContract, { metadata: { tenant: 't1' } });
    const traced = withOptions(base, { metadata: { trace: 'abc' } });
    assert.deepEqual(await traced.meta(), { tenant: 't1', trace: 'abc', peerKnown: 'true' });
    assert.deepEqual(await base.meta(), { tenant: 't1', peerKnown: 'true' });
  });

  test('withOptions refuses an object that is not a proxy', () => {
    assert.throws(() => withOptions({}, { timeoutMs: 1 }), /takes a proxy made by client\.proxy\(\)/);
  });

  test('client.call reaches a method by name', async () => {
    assert.equal(await s.client().call('Greeter', 'greet', ['bob']), 'hello bob');
  });

  test('the msgpack codec gives the same answers', async () => {
    const greeter = s.client({ codec: 'msgpack' }).proxy(GreeterContract);
    assert.equal(await greeter.greet('mp'), 'hello mp');
  });
});
