import type { MethodDefinition } from '../metadata/service-definition';
import type { AnyClass } from '../metadata/metadata-storage';
import type { ArgumentChecker } from '../server/argument-checker';
import type { ServerCallContext } from '../server/call-context';
import { compose, type CallTransport, type ServerCallInfo, type ServerInterceptor, type ServerNext } from './interceptor';
import { usedInterceptors } from './use';

/** What the innermost layer needs to run a method's handler. */
export interface HandlerTarget {
  readonly def: MethodDefinition;
  readonly instance: object;
  readonly handler: (...args: unknown[]) => unknown;
  readonly checkArgs: ArgumentChecker;
}

/**
 * The interceptor chain of one method: the server's global interceptors, then the class's and the method's
 * `@Use` ones, around argument checking and the handler. Undefined when there is no interceptor at all, so
 * the call path can take its direct route, decided here once per method rather than on every call.
 */
export function buildServerChain(
  target: HandlerTarget,
  serviceClass: AnyClass,
  globals: readonly ServerInterceptor[],
): ServerNext | undefined {
  const interceptors = [...globals, ...usedInterceptors(serviceClass, target.def.name)];
  if (interceptors.length === 0) return undefined;
  return compose(interceptors, handlerNext(target));
}

/** Checks the arguments, then runs the handler; no `await` for synchronous checks, which cost a microtask each. */
function handlerNext(target: HandlerTarget): ServerNext {
  const { def, instance, handler, checkArgs } = target;
  const run = (call: ServerCallInfo, checked: unknown[]): unknown => {
    // The checker returns a new array, but an interceptor may hand over anything: never push into call.args.
    const args = checked === call.args ? [...checked] : checked;
    if (def.contextIndex >= 0) args.push(call.context);
    return handler.apply(instance, args);
  };
  return (call) => {
    try {
      const checked = checkArgs(call.args);
      if (checked instanceof Promise) return checked.then((a) => run(call, a));
      return Promise.resolve(run(call, checked));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  };
}

/** The call object handed to server interceptors; `principal` reads and writes the context's. */
export class InterceptedCall implements ServerCallInfo {
  constructor(
    readonly service: string,
    readonly method: string,
    readonly definition: MethodDefinition,
    readonly meta: Readonly<Record<string, unknown>>,
    public args: unknown[],
    readonly context: ServerCallContext,
    readonly transport: CallTransport,
  ) {}

  get principal(): unknown {
    return this.context.principal;
  }

  set principal(value: unknown) {
    this.context.principal = value;
  }
}
