import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, Method, RpcServer, scanService, Service, ServiceDefinitionError, ShardKey, type CallContext } from '../../src/index';

class Address {
  city!: string;
}
class Order {
  user!: { id: string };
  address!: Address;
}

@Service('Orders')
class Orders {
  @Method({ idempotent: true, timeoutMs: 500 })
  get(@ShardKey() id: string): string {
    return id;
  }
  @Method()
  place(@ShardKey('user.id') order: Order, @Ctx() ctx: CallContext): string {
    return `${order.user.id}@${ctx.peer}`;
  }
  @Method()
  count(): number {
    return 0;
  }
  notRemote(): number {
    return 1;
  }
}

describe('scanService', () => {
  test('records methods, options, parameter types, shard keys and the context parameter', () => {
    const def = scanService(Orders);
    assert.equal(def.name, 'Orders');
    assert.deepEqual([...def.methods.keys()].sort(), ['count', 'get', 'place']);
    const get = def.methods.get('get')!;
    assert.deepEqual(get.options, { idempotent: true, timeoutMs: 500 });
    assert.deepEqual(get.paramTypes, [String]);
    assert.deepEqual(get.shardKey, { index: 0, path: [] });
    assert.equal(get.contextIndex, -1);
    const place = def.methods.get('place')!;
    assert.deepEqual(place.paramTypes, [Order], 'the @Ctx parameter is not a wire argument');
    assert.equal(place.contextIndex, 1);
    assert.deepEqual(place.shardKey, { index: 0, path: ['user', 'id'] });
    assert.equal(scanService(Orders), def, 'definitions are cached per class');
  });

  test('a subclass inherits the service, its methods and their metadata, and may override them', () => {
    @Service('Base')
    class Base {
      @Method() hello(name: string): string {
        return name;
      }
    }
    class Impl extends Base {
      override hello(name: string): string {
        return `hi ${name}`;
      }
    }
    const def = scanService(Impl);
    assert.equal(def.name, 'Base');
    assert.deepEqual(def.methods.get('hello')!.paramTypes, [String]);
    assert.equal(def.target, Impl);
  });
});

describe('definition mistakes name the class and the member', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'a @Method outside a @Service',
      () => {
        class Loose {
          @Method() run(): void {}
        }
        return scanService(Loose);
      },
      /class Loose is not decorated with @Service \(its member 'run' is decorated with @Method\)/,
    ],
    [
      'two @ShardKey parameters',
      () => {
        @Service()
        class TwoKeys {
          @Method() put(@ShardKey() a: string, @ShardKey() b: string): string {
            return a + b;
          }
        }
        return scanService(TwoKeys);
      },
      /TwoKeys\.put: two @ShardKey parameters \(#1 and #0\)|TwoKeys\.put: two @ShardKey parameters \(#0 and #1\)/,
    ],
    [
      '@ShardKey on a method without @Method',
      () => {
        @Service()
        class Stray {
          @Method() ok(): void {}
          other(@ShardKey() k: string): string {
            return k;
          }
        }
        return scanService(Stray);
      },
      /Stray\.other: @ShardKey on a method without @Method/,
    ],
    [
      '@Ctx not last',
      () => {
        @Service()
        class CtxFirst {
          @Method() run(@Ctx() ctx: CallContext, n: number): number {
            return n + (ctx ? 0 : 1);
          }
        }
        return scanService(CtxFirst);
      },
      /CtxFirst\.run: the @Ctx parameter must be the last one/,
    ],
    [
      'a property path on a primitive shard key',
      () => {
        @Service()
        class PathOnString {
          @Method() get(@ShardKey('user.id') id: string): string {
            return id;
          }
        }
        return scanService(PathOnString);
      },
      /PathOnString\.get: @ShardKey\('user\.id'\) takes a property path, but parameter #0 is a primitive/,
    ],
    [
      'a class with no @Method',
      () => {
        @Service()
        class Empty {}
        return scanService(Empty);
      },
      /service class Empty has no @Method/,
    ],
    [
      'a non-positive method timeout',
      () => {
        @Service()
        class BadTimeout {
          @Method({ timeoutMs: -1 }) run(): void {}
        }
        return scanService(BadTimeout);
      },
      /BadTimeout\.run: @Method timeoutMs must be a positive number/,
    ],
    [
      'an unusable service name',
      () => {
        @Service('has space')
        class Spaced {
          @Method() run(): void {}
        }
        return scanService(Spaced);
      },
      /class Spaced: service name 'has space'/,
    ],
  ];
  for (const [name, define, message] of cases) {
    test(name, () => {
      assert.throws(define, (err: unknown) => {
        assert.ok(err instanceof ServiceDefinitionError, `expected ServiceDefinitionError, got ${String(err)}`);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('a duplicate service name is refused when registered', () => {
    @Service('Same')
    class A {
      @Method() a(): void {}
    }
    @Service('Same')
    class B {
      @Method() b(): void {}
    }
    const server = new RpcServer().register(new A());
    assert.throws(() => server.register(new B()), /duplicate service name 'Same': B and A both register it/);
    assert.deepEqual(
      server.services().map((s) => s.target),
      [A],
      'the first registration stands',
    );
  });

  test('register() refuses something that is not an instance', () => {
    assert.throws(() => new RpcServer().register(null as unknown as object), ServiceDefinitionError);
  });
});
