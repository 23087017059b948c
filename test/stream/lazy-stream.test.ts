import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LazyStream } from '../../src/stream/lazy-stream';

/** A source that records whether it was ended early. */
function source(items: number[]): AsyncIterable<number> & { returned: number } {
  const s = {
    returned: 0,
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: async () => (i < items.length ? { value: items[i++], done: false } : { value: undefined, done: true as const }),
        return: async () => {
          s.returned++;
          return { value: undefined, done: true as const };
        },
      };
    },
  };
  return s;
}

test('a lazy stream opens nothing until the first next(), then yields the source items in order', async () => {
  let opened = 0;
  const src = source([1, 2, 3]);
  const lazy = new LazyStream(async () => (opened++, src));
  assert.equal(opened, 0, 'made but not read: not opened');
  const got: unknown[] = [];
  for await (const x of lazy) got.push(x);
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(opened, 1);
});

test('return() before the first next() never opens it; return() after ends the source', async () => {
  let opened = 0;
  const never = new LazyStream(async () => (opened++, source([1])));
  assert.deepEqual(await never.return(), { value: undefined, done: true });
  assert.deepEqual(await never.next(), { value: undefined, done: true });
  assert.equal(opened, 0);

  const src = source([1, 2, 3]);
  const lazy = new LazyStream(async () => src);
  for await (const x of lazy) if (x === 1) break;
  assert.equal(src.returned, 1, 'leaving the loop early ends the source');
});

test('a failed opening rejects the first next() with its error, and the stream is done after it', async () => {
  const lazy = new LazyStream(() => Promise.reject(new Error('refused')));
  await assert.rejects(lazy.next(), /refused/);
  assert.deepEqual(await lazy.next(), { value: undefined, done: true });
});

test('throw() ends the source like return() and rejects with the error given', async () => {
  const src = source([1, 2]);
  const lazy = new LazyStream(async () => src);
  assert.deepEqual(await lazy.next(), { value: 1, done: false });
  await assert.rejects(lazy.throw(new Error('stop')), /stop/);
  assert.equal(src.returned, 1);
  assert.deepEqual(await lazy.next(), { value: undefined, done: true }, 'done after throw(), as a generator is');
});
