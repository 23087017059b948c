// Type-level tests for streaming methods on the typed proxy, checked by `tsc -p test/types` (part of `npm test`).
import 'reflect-metadata';
import { Ctx, Method, type RpcClient, Service, type CallContext } from '../../src/index';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

@Service('Watcher')
class Watcher {
  @Method() async *watch(key: string, @Ctx() _ctx: CallContext): AsyncGenerator<{ key: string; value: number }> {
    yield { key, value: 1 };
  }
  @Method({ stream: 'server' }) lines(path: string): AsyncIterable<string> {
    return {
      async *[Symbol.asyncIterator]() {
        yield path;
      },
    };
  }
  @Method() get(key: string): Promise<number> {
    return Promise.resolve(key.length);
  }
}

declare const client: RpcClient;
const watcher = client.proxy(Watcher);

// An async * method is an AsyncIterable of its items on the proxy, not a Promise; the context parameter is dropped.
assertType<Equal<ReturnType<typeof watcher.watch>, AsyncIterable<{ key: string; value: number }>>>();
assertType<Equal<Parameters<typeof watcher.watch>, [key: string]>>();
assertType<Equal<ReturnType<typeof watcher.lines>, AsyncIterable<string>>>();
// Unary methods stay promises.
assertType<Equal<ReturnType<typeof watcher.get>, Promise<number>>>();
// @ts-expect-error a stream is not awaited for one value
const one: Promise<unknown> = watcher.watch('k');
void one;
// The untyped form yields unknown items.
assertType<Equal<ReturnType<RpcClient['stream']>, AsyncGenerator<unknown, void, undefined>>>();
