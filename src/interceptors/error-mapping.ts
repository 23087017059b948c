import { RpcError, type RpcCode } from '../errors/rpc-error';
import type { ServerInterceptor } from './interceptor';

/** A class of errors: any constructor whose instances are `Error`s. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

/** A domain error class and the code it becomes, or a function that makes the `RpcError`. */
export type ErrorRule = readonly [ErrorClass, RpcCode | ((err: Error) => RpcError)];

/**
 * A server interceptor that turns domain errors into `RpcError`s: the first rule whose class the error is an
 * instance of decides; with a code, the error's own message is kept. Errors no rule matches pass on unchanged
 * (an `RpcError` keeps its code; anything else still becomes `INTERNAL` and is logged).
 */
export function mapErrors(rules: readonly ErrorRule[]): ServerInterceptor {
  for (const [cls, to] of rules) {
    if (typeof cls !== 'function') throw new RangeError(`mapErrors: each rule starts with an error class, got ${String(cls)}`);
    if (typeof to !== 'function' && typeof to !== 'string')
      throw new RangeError('mapErrors: each rule ends with an RpcCode or a function returning an RpcError');
  }
  return (next) => async (call) => {
    try {
      return await next(call);
    } catch (err) {
      if (RpcError.is(err)) throw err;
      for (const [cls, to] of rules) {
        if (err instanceof cls) throw typeof to === 'function' ? to(err) : new RpcError(to, err.message, { cause: err });
      }
      throw err;
    }
  };
}
