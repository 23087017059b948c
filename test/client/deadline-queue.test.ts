import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineQueue, MAX_DEADLINE_INSERT_STEPS, type DeadlineEntry } from '../../src/util/deadline-queue';

/** An entry that records when it expired, ms after `t0`. */
class Entry implements DeadlineEntry {
  expireAtMs = 0;
  prevDeadline: DeadlineEntry | undefined = undefined;
  nextDeadline: DeadlineEntry | undefined = undefined;
  queuedDeadline = false;
  expiredAfterMs: number[] = [];
  constructor(
    readonly name: string,
    private readonly t0: number,
    private readonly log: string[],
  ) {}
  expire(): void {
    this.expiredAfterMs.push(Date.now() - this.t0);
    this.log.push(this.name);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('DeadlineQueue: one timer for a connection’s call deadlines', () => {
  test('entries expire once each, in deadline order, never before Date.now() reaches their deadline', async () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const t0 = Date.now();
    const late = new Entry('late', t0, log);
    const early = new Entry('early', t0, log);
    const middle = new Entry('middle', t0, log);
    assert.equal(queue.add(late, 60), true);
    assert.equal(queue.add(early, 20), true);
    assert.equal(queue.add(middle, 40), true);
    await sleep(120);
    assert.deepEqual(log, ['early', 'middle', 'late']);
    for (const [e, ms] of [
      [early, 20],
      [middle, 40],
      [late, 60],
    ] as const) {
      assert.equal(e.expiredAfterMs.length, 1, `${e.name} expired once`);
      assert.ok(e.expiredAfterMs[0] >= ms, `${e.name} expired after ${e.expiredAfterMs[0]} ms, deadline ${ms} ms`);
      assert.equal(e.queuedDeadline, false);
    }
  });

  test('a removed entry never expires, and removing the head does not delay the next one', async () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const t0 = Date.now();
    const first = new Entry('first', t0, log);
    const second = new Entry('second', t0, log);
    queue.add(first, 15);
    queue.add(second, 30);
    queue.remove(first);
    queue.remove(first); // a second removal is a no-op
    await sleep(80);
    assert.deepEqual(log, ['second']);
    assert.ok(second.expiredAfterMs[0] >= 30);
  });

  test(`an entry that would need more than ${MAX_DEADLINE_INSERT_STEPS} steps to place is refused, so the caller times it itself`, () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    const t0 = Date.now();
    const long = Array.from({ length: MAX_DEADLINE_INSERT_STEPS + 1 }, (_, i) => new Entry(`long${i}`, t0, log));
    for (const e of long) assert.equal(queue.add(e, 10_000), true);
    assert.equal(queue.add(new Entry('short', t0, log), 5), false);
    const fewer = new DeadlineQueue();
    for (const e of long.slice(0, MAX_DEADLINE_INSERT_STEPS).map((x) => new Entry(x.name, t0, log))) fewer.add(e, 10_000);
    assert.equal(fewer.add(new Entry('short', t0, log), 5), true, 'within the walk bound it is placed');
    queue.close();
    fewer.close();
  });

  test('the last entry out stops the timer, so an idle connection holds none (the leak test counts them)', () => {
    const queue = new DeadlineQueue();
    const armed = (): boolean => (queue as unknown as { timer: NodeJS.Timeout | undefined }).timer !== undefined;
    const log: string[] = [];
    const a = new Entry('a', Date.now(), log);
    const b = new Entry('b', Date.now(), log);
    queue.add(a, 10_000);
    queue.add(b, 20_000);
    assert.equal(armed(), true);
    queue.remove(a);
    assert.equal(armed(), true, 'b still needs it');
    queue.remove(b);
    assert.equal(armed(), false);
  });

  test('close() stops the timer: nothing expires afterwards', async () => {
    const queue = new DeadlineQueue();
    const log: string[] = [];
    queue.add(new Entry('a', Date.now(), log), 10);
    queue.close();
    await sleep(40);
    assert.deepEqual(log, []);
  });
});
