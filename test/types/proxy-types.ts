// Type-level tests for the typed proxy, checked by `tsc -p test/types` (part of `npm test`).
// Every `@ts-expect-error` line must be a compile error: if one starts compiling, tsc fails the build.
import 'reflect-metadata';
import { Ctx, Method, type RpcClient, Service, withOptions, type CallContext, type ServiceProxy } from '../../src/index';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

class Point {
  x!: number;
  y!: number;
}

@Service('Shapes')
class Shapes {
  @Method() area(w: number, h: number): number {
    return w * h;
  }
  @Method() async name(p: Point): Promise<string> {
    return `${p.x},${p.y}`;
  }
  @Method() slow(ms: number, @Ctx() ctx: CallContext): Promise<void> {
    return new Promise((r) => setTimeout(() => r(ctx.signal.throwIfAborted()), ms));
  }
  @Method() nothing(): void {}
  private helper = 1;
}

declare const client: RpcClient;
const shapes = client.proxy(Shapes);

// Results become promises of the awaited result type.
assertType<Equal<ReturnType<typeof shapes.area>, Promise<number>>>();
assertType<Equal<ReturnType<typeof shapes.name>, Promise<string>>>();
assertType<Equal<ReturnType<typeof shapes.nothing>, Promise<void>>>();
// The @Ctx parameter is not the caller's business.
assertType<Equal<Parameters<typeof shapes.slow>, [ms: number]>>();
// Non-function members are not on the proxy.
assertType<Equal<'helper' extends keyof ServiceProxy<Shapes> ? true : false, false>>();

void shapes.area(1, 2);
void shapes.name({ x: 1, y: 2 });
void shapes.slow(10);

// @ts-expect-error a string where a number is declared
void shapes.area('1', 2);
// @ts-expect-error too few arguments
void shapes.area(1);
// @ts-expect-error too many arguments
void shapes.area(1, 2, 3);
// @ts-expect-error the DTO lacks y
void shapes.name({ x: 1 });
// @ts-expect-error callers cannot pass the context
void shapes.slow(10, {} as CallContext);
// @ts-expect-error no such method
void shapes.perimeter(1, 2);
// @ts-expect-error the result is a promise, not a number
const n: number = shapes.area(1, 2);

// Per-call options are typed too.
const _withDeadline = withOptions(shapes, { timeoutMs: 100, signal: new AbortController().signal, metadata: { trace: 'x' } });
assertType<Equal<typeof _withDeadline, typeof shapes>>();
// @ts-expect-error timeoutMs is a number
withOptions(shapes, { timeoutMs: '100' });
// @ts-expect-error metadata values are strings
withOptions(shapes, { metadata: { n: 1 } });
// @ts-expect-error unknown option
withOptions(shapes, { retries: 3 });

export { n };
