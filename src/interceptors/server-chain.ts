import type { MethodDefinition } from '../metadata/service-definition';
import type { AnyClass } from '../metadata/metadata-storage';
import type { ArgumentChecker } from '../server/argument-checker';
import { compose, type ServerInterceptor, type ServerNext } from './interceptor';
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
export function buildServerChain(target: HandlerTarget, serviceClass: AnyClass, globals: readonly ServerInterceptor[]): ServerNext | undefined {
  const interceptors = [...globals, ...usedInterceptors(serviceClass, target.def.name)];
  if (interceptors.length === 0) return undefined;
  return compose(interceptors, handlerNext(target));
}

function handlerNext(target: HandlerTarget): ServerNext {
  const { def, instance, handler, checkArgs } = target;
  return async (call) => {
    const args = [...(await checkArgs(call.args))];
    if (def.contextIndex >= 0) args.push(call.context);
    return handler.apply(instance, args);
  };
}
