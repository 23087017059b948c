import assert from 'node:assert/strict';
import { RpcError } from '../../src/index';

/** Polls `get` until it returns something other than undefined/false, within a bounded time. */
export async function until<T>(get: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const stopAt = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > stopAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The RpcError a call rejected with; fails the test if it resolved or threw something else. */
export async function rejection(call: Promise<unknown>): Promise<RpcError> {
  let value: unknown;
  try {
    value = await call;
  } catch (err) {
    assert.ok(RpcError.is(err), `expected an RpcError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected the call to reject, it resolved with ${JSON.stringify(value)}`);
}

/**
 * Whether `call` has already settled before any I/O can happen: the race is against a setImmediate, which
 * runs after the poll phase, so an answer from a peer cannot have been read before it.
 */
export async function settledBeforeIo(call: Promise<unknown>): Promise<boolean> {
  const io = new Promise<'io'>((resolve) => setImmediate(() => resolve('io')));
  const settled = call.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  return (await Promise.race([settled, io])) === 'settled';
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Collects unhandled rejections between start() and stop(). */
export function watchUnhandledRejections(): { stop(): unknown[] } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  return {
    stop() {
      process.off('unhandledRejection', onRejection);
      return seen;
    },
  };
}

/**
 * Runs `body` with a ref'd interval holding the event loop open. Needed when nothing else does: the library's
 * timers are unref'd by design, and a socket double that never connects has no handle.
 */
export async function keepingLoopAlive<T>(body: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, 1000);
  try {
    return await body();
  } finally {
    clearInterval(hold);
  }
}

/** For handlers that hang until their call is aborted: records the abort reason, then rejects with it. */
export function rejectOnAbort(ctx: { signal: AbortSignal }, aborts: unknown[], reject: (reason: unknown) => void): void {
  ctx.signal.addEventListener(
    'abort',
    () => {
      aborts.push(ctx.signal.reason);
      reject(ctx.signal.reason);
    },
    { once: true },
  );
}
