const DONE: IteratorReturnResult<void> = Object.freeze({ value: undefined, done: true });

/**
 * A stream that opens its source on the first `next()` (so making one sends nothing), then hands every
 * `next()` straight to the source. An `async *` wrapper with `yield*` would do the same with two more promise
 * hops per item: about 0.3 µs per item on the client, a seventh of its CPU for small items.
 * Like a generator, it is done after the opening failed or `return()` was called.
 */
export class LazyStream implements AsyncGenerator<unknown, void, undefined> {
  private source: AsyncIterator<unknown> | undefined;
  private opening: Promise<AsyncIterator<unknown>> | undefined;
  private closed = false;

  constructor(private readonly open: () => Promise<AsyncIterable<unknown>>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown, void>> {
    if (this.closed) return Promise.resolve(DONE);
    if (this.source !== undefined) return this.source.next();
    this.opening ??= this.open().then((s) => (this.source = s[Symbol.asyncIterator]()));
    return this.opening.then(
      (s) => (this.closed ? DONE : s.next()),
      (err: unknown) => {
        this.closed = true;
        throw err;
      },
    );
  }

  /** The consumer left: ends the source (which cancels the stream), once it is open. */
  async return(): Promise<IteratorResult<unknown, void>> {
    this.closed = true;
    const source = this.source ?? (await this.opening?.catch(() => undefined));
    await source?.return?.();
    return DONE;
  }

  /** As a generator's `throw()` at its first line: ends the stream (cancelling it), then rejects with `err`. */
  async throw(err: unknown): Promise<IteratorResult<unknown, void>> {
    await this.return();
    throw err;
  }
}
