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

@Service('Chat')
class Chat {
  @Method({ stream: 'client' }) async upload(chunks: AsyncIterable<Uint8Array>, name: string): Promise<number> {
    let n = 0;
    for await (const c of chunks) n += c.length + name.length;
    return n;
  }
  @Method({ stream: 'bidi' }) async *talk(lines: AsyncIterable<string>, @Ctx() _ctx: CallContext): AsyncGenerator<{ reply: string }> {
    for await (const l of lines) yield { reply: l };
  }
}

const chat = client.proxy(Chat);
// A client stream takes an AsyncIterable (or any Iterable) of its items and returns a Promise of its result.
assertType<Equal<Parameters<typeof chat.upload>, [chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, name: string]>>();
assertType<Equal<ReturnType<typeof chat.upload>, Promise<number>>>();
// A bidi stream takes items and returns an AsyncIterable of the answers; the context parameter is dropped.
assertType<Equal<Parameters<typeof chat.talk>, [lines: AsyncIterable<string> | Iterable<string>]>>();
assertType<Equal<ReturnType<typeof chat.talk>, AsyncIterable<{ reply: string }>>>();
void chat.upload([new Uint8Array(1)], 'file');
void chat.talk(['hi']);
// @ts-expect-error items of the wrong type do not compile
void chat.upload(['not bytes'], 'file');
// @ts-expect-error a single item is not a stream of items
void chat.upload(new Uint8Array(1), 'file');
// @ts-expect-error the other arguments keep their types
void chat.upload([new Uint8Array(1)], 42);
// @ts-expect-error a bidi stream is not awaited for one value
const reply: Promise<unknown> = chat.talk(['hi']);
void reply;
// The untyped forms.
assertType<Equal<ReturnType<RpcClient['clientStream']>, Promise<unknown>>>();
assertType<Equal<ReturnType<RpcClient['bidiStream']>, AsyncGenerator<unknown, void, undefined>>>();
