import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { Ctx, Method, RpcServer, scanService, Service, ServiceDefinitionError, ShardKey, type CallContext } from '../../src/index';

class Order {
  user!: { id: string };
}

/** Applies @Method the way standard (TC39) decorators call it: (function, context), no class, no metadata. */
function standardMethod(cls: { prototype: object }, name: string, options?: Parameters<typeof Method>[0]): void {
  const fn = (cls.prototype as Record<string, unknown>)[name];
  Method(options)(fn, { kind: 'method', name, static: false });
}

function standardService<T extends abstract new (...args: never[]) => unknown>(cls: T, name?: string): T {
  Service(name)(cls, { kind: 'class' });
  return cls;
}

function refused(cls: new () => object, pattern: RegExp): void {
  assert.throws(
    () => new RpcServer().register(new cls()),
    (err: unknown) => {
      assert.ok(err instanceof ServiceDefinitionError, String(err));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('@Method options that replace parameter decorators', () => {
  test('shardKey as an index, a path in argument #0, and a path in argument #N', () => {
    @Service('Keys')
    class Keys {
      @Method({ shardKey: 1, params: [Number, String] }) byIndex(_n: number, _id: string): void {}
      @Method({ shardKey: 'user.id', params: [Order] }) byPath(_o: Order): void {}
      @Method({ shardKey: '1.user.id', params: [Number, Order] }) byIndexedPath(_n: number, _o: Order): void {}
    }
    const def = scanService(Keys);
    assert.deepEqual(def.methods.get('byIndex')!.shardKey, { index: 1, path: [] });
    assert.deepEqual(def.methods.get('byPath')!.shardKey, { index: 0, path: ['user', 'id'] });
    assert.deepEqual(def.methods.get('byIndexedPath')!.shardKey, { index: 1, path: ['user', 'id'] });
  });

  test('context: true makes the last parameter the context, like @Ctx()', () => {
    @Service('Ctxs')
    class Ctxs {
      @Method({ context: true }) a(_s: string, _ctx: CallContext): void {}
      @Method({ context: true, params: [String] }) b(_s: string, _ctx: CallContext): void {}
      @Method({ context: true }) c(_ctx: CallContext): void {}
    }
    const def = scanService(Ctxs);
    assert.deepEqual(def.methods.get('a')!.paramTypes, [String]);
    assert.equal(def.methods.get('a')!.contextIndex, 1);
    assert.equal(def.methods.get('b')!.contextIndex, 1);
    assert.deepEqual(def.methods.get('c')!.paramTypes, []);
    assert.equal(def.methods.get('c')!.contextIndex, 0);
  });

  test('existing @ShardKey and @Ctx code keeps its meaning', () => {
    @Service('Old')
    class Old {
      @Method() place(@ShardKey('user.id') _o: Order, @Ctx() _ctx: CallContext): void {}
    }
    const m = scanService(Old).methods.get('place')!;
    assert.deepEqual(m.paramTypes, [Order]);
    assert.equal(m.contextIndex, 1);
    assert.deepEqual(m.shardKey, { index: 0, path: ['user', 'id'] });
  });

  test('mistakes in the options are refused at register(), naming the class and member', () => {
    @Service('B1')
    class B1 {
      @Method({ shardKey: 2, params: [String] }) m(_s: string): void {}
    }
    refused(B1, /B1\.m: @Method shardKey names argument #2, but the method takes 1 argument/);
    @Service('B2')
    class B2 {
      @Method({ shardKey: 'a..b', params: [Order] }) m(_o: Order): void {}
    }
    refused(B2, /B2\.m: @Method shardKey path 'a\.\.b' has an empty segment/);
    @Service('B3')
    class B3 {
      @Method({ shardKey: 'id', params: [String] }) m(_s: string): void {}
    }
    refused(B3, /B3\.m: @Method\(\{ shardKey: 'id' \}\) takes a property path, but parameter #0 is a primitive/);
    @Service('B4')
    class B4 {
      @Method({ shardKey: 0 }) m(@ShardKey() _s: string): void {}
    }
    refused(B4, /B4\.m: both @ShardKey and @Method\(\{ shardKey \}\)/);
    @Service('B5')
    class B5 {
      @Method({ context: true }) m(@Ctx() _c: CallContext): void {}
    }
    refused(B5, /B5\.m: both @Ctx\(\) and @Method\(\{ context \}\)/);
    @Service('B6')
    class B6 {
      @Method({ params: [String, 42 as never] }) m(_s: string, _n: number): void {}
    }
    refused(B6, /B6\.m: params\[1\] is number, not a type; use a class, Number, String/);
    @Service('B7')
    class B7 {
      @Method({ params: [String] }) m(_s: string, _n: number): void {}
    }
    refused(B7, /B7\.m: params lists 1 type\(s\) but the method declares 2 wire parameter\(s\)/);
    @Service('B8')
    class B8 {
      @Method({ params: 'String' as never }) m(_s: string): void {}
    }
    refused(B8, /B8\.m: @Method params must be an array of types/);
  });
});

describe('methods without declared types', () => {
  test('a method with parameters and neither params nor design:paramtypes is refused, saying how to fix it', () => {
    class Untyped {
      create(user: unknown): unknown {
        return user;
      }
    }
    standardMethod(Untyped, 'create');
    standardService(Untyped, 'Untyped');
    refused(
      Untyped,
      /Untyped\.create: the types of its 1 parameter\(s\) are unknown.*@Method\(\{ params: \[\.\.\.\] \}\).*emitDecoratorMetadata/,
    );
  });

  test('legacy decorators compiled without emitDecoratorMetadata are refused the same way', () => {
    @Service('NoMeta')
    class NoMeta {
      @Method() add(a: number, b: number): number {
        return a + b;
      }
    }
    Reflect.deleteMetadata('design:paramtypes', NoMeta.prototype, 'add');
    refused(NoMeta, /NoMeta\.add: the types of its 2 parameter\(s\) are unknown/);
  });

  test('standard-decorator call shapes: methods with params, no parameters, or only the context are accepted', () => {
    const Schema = z.string().email();
    class Std {
      add(a: number, b: number): number {
        return a + b;
      }
      ping(): string {
        return 'pong';
      }
      who(ctx: CallContext): string {
        return ctx.peer;
      }
      mail(to: string): string {
        return to;
      }
    }
    standardMethod(Std, 'add', { params: [Number, Number], idempotent: true });
    standardMethod(Std, 'ping');
    standardMethod(Std, 'who', { context: true });
    standardMethod(Std, 'mail', { params: [Schema] });
    standardService(Std, 'Std');
    const def = scanService(Std);
    assert.deepEqual([...def.methods.keys()].sort(), ['add', 'mail', 'ping', 'who']);
    assert.deepEqual(def.methods.get('add')!.paramTypes, [Number, Number]);
    assert.deepEqual(def.methods.get('add')!.options, { params: [Number, Number], idempotent: true });
    assert.equal(def.methods.get('who')!.contextIndex, 0);
    assert.equal(def.methods.get('mail')!.paramTypes[0], Schema);
  });

  test('standard @Method on a field, a getter, a static or a private method throws at once', () => {
    assert.throws(() => Method()(undefined, { kind: 'field', name: 'x' }), /@Method is on 'x', a field, not a method/);
    assert.throws(() => Method()(() => 1, { kind: 'getter', name: 'g' }), /a getter, not a method/);
    assert.throws(() => Method()(() => 1, { kind: 'method', name: 's', static: true }), /static method 's'/);
    assert.throws(() => Method()(() => 1, { kind: 'method', name: '#p', private: true }), /private method '#p'/);
  });
});
