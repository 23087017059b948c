/** Stream shapes are checked when a service is registered, with errors that name the method. */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, Method, RpcServer, Service, ServiceDefinitionError, ShardKey, type CallContext } from '../../src/index';

function refusal(instance: object): ServiceDefinitionError {
  try {
    new RpcServer().register(instance);
  } catch (err) {
    assert.ok(err instanceof ServiceDefinitionError, `expected a ServiceDefinitionError, got ${String(err)}`);
    return err;
  }
  assert.fail('register() accepted the service');
}

describe('stream definitions', () => {
  test("a stream value other than 'server', 'client' or 'bidi' is refused, naming the method", () => {
    @Service('BadKind')
    class BadKind {
      @Method({ stream: 'duplex' as unknown as 'bidi' }) talk(items: AsyncIterable<number>): Promise<number> {
        return Promise.resolve(items ? 1 : 0);
      }
    }
    const err = refusal(new BadKind());
    assert.equal(err.message, "BadKind.talk: @Method stream must be 'server', 'client' or 'bidi', got 'duplex'");
  });

  test('a non-string stream value is refused too', () => {
    @Service('BadType')
    class BadType {
      @Method({ stream: true as unknown as 'server' }) talk(): number {
        return 1;
      }
    }
    assert.match(refusal(new BadType()).message, /^BadType\.talk: @Method stream must be .*got true$/);
  });

  test('a client stream without a parameter to stream is refused', () => {
    @Service('NoInput')
    class NoInput {
      @Method({ stream: 'client' }) upload(): Promise<number> {
        return Promise.resolve(1);
      }
    }
    assert.equal(
      refusal(new NoInput()).message,
      "NoInput.upload: @Method({ stream: 'client' }) streams the method's first parameter, but it has no parameter besides @Ctx",
    );
  });

  test('a bidi stream whose only parameter is @Ctx is refused', () => {
    @Service('OnlyCtx')
    class OnlyCtx {
      @Method({ stream: 'bidi' }) async *talk(@Ctx() _ctx: CallContext): AsyncGenerator<number> {
        yield 1;
      }
    }
    assert.match(refusal(new OnlyCtx()).message, /^OnlyCtx\.talk: @Method\(\{ stream: 'bidi' \}\) streams the method's first parameter/);
  });

  test('the streamed parameter cannot be the shard key', () => {
    @Service('KeyedInput')
    class KeyedInput {
      @Method({ stream: 'client' }) async put(@ShardKey() rows: AsyncIterable<string>): Promise<number> {
        let n = 0;
        for await (const _ of rows) n++;
        return n;
      }
    }
    assert.equal(
      refusal(new KeyedInput()).message,
      'KeyedInput.put: the shard key cannot be the first parameter of a client stream (the streamed one)',
    );
  });

  test('an async * method cannot be a client stream', () => {
    @Service('GenClient')
    class GenClient {
      @Method({ stream: 'client' }) async *up(items: AsyncIterable<number>): AsyncGenerator<number> {
        yield* items;
      }
    }
    assert.equal(
      refusal(new GenClient()).message,
      "GenClient.up: an async * method answers with many items, so it cannot be a client stream (one result); use stream: 'bidi'",
    );
  });

  test('valid client and bidi streams register', () => {
    @Service('Fine')
    class Fine {
      @Method({ stream: 'client' }) async put(rows: AsyncIterable<string>, @ShardKey() _table: string): Promise<number> {
        let n = 0;
        for await (const _ of rows) n++;
        return n;
      }
      @Method({ stream: 'bidi' }) async *talk(lines: AsyncIterable<string>, @Ctx() _ctx: CallContext): AsyncGenerator<string> {
        yield* lines;
      }
    }
    assert.doesNotThrow(() => new RpcServer().register(new Fine()));
  });
});
