import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IdTable, MAX_ID_TABLE_SLOTS } from '../../src/util/id-table';
import { seededRandom } from '../helpers/random';

class Call {
  constructor(
    readonly id: number,
    readonly tag = `call ${id}`,
  ) {}
}

/** The table's own fields, to check that its slot array is not replaced under churn. */
interface Insides {
  slots: unknown[];
  overflow: Map<number, Call> | undefined;
}

function assertSame(table: IdTable<Call>, model: Map<number, Call>, probe: number[]): void {
  assert.equal(table.size, model.size);
  for (const id of probe) {
    assert.equal(table.get(id), model.get(id), `get(${id})`);
    assert.equal(table.has(id), model.has(id), `has(${id})`);
  }
  assert.deepEqual(
    table.values().map((c) => c.id),
    [...model.keys()].sort((a, b) => a - b),
  );
}

describe('IdTable: calls in flight by request id', () => {
  test('behaves as a Map over random adds, replacements and removals of sequential, colliding and extreme ids', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = seededRandom(seed);
      const table = new IdTable<Call>();
      const model = new Map<number, Call>();
      let nextId = seed * 1000;
      const live: number[] = [];
      for (let step = 0; step < 20_000; step++) {
        const r = next();
        if (r < 0.45 || live.length === 0) {
          // sequential ids, now and then one far away, one that collides with a live one, or one at the top of the id space
          const pick = next();
          const id =
            pick < 0.8
              ? ++nextId
              : pick < 0.9
                ? (live[0] ?? 0) + 16 * (1 + Math.floor(next() * 300))
                : pick < 0.95
                  ? 0xffffffff - Math.floor(next() * 4)
                  : 0x80000000 + Math.floor(next() * 8);
          const call = new Call(id, `step ${step}`);
          if (!model.has(id)) live.push(id);
          table.set(call);
          model.set(id, call);
        } else if (r < 0.9) {
          // mostly the oldest first, sometimes one in the middle
          const at = next() < 0.7 ? 0 : Math.floor(next() * live.length);
          const [id] = live.splice(at, 1);
          assert.equal(table.delete(id), model.delete(id));
        } else {
          const id = Math.floor(next() * (nextId + 10));
          assert.equal(table.delete(id), model.delete(id), `delete(${id})`);
          const i = live.indexOf(id);
          if (i >= 0) live.splice(i, 1);
        }
        if (step % 500 === 0) assertSame(table, model, [...live, nextId + 1, 0, 0xffffffff]);
      }
      assertSame(table, model, live);
      table.clear();
      assert.equal(table.size, 0);
      assert.equal(table.get(live[0] ?? 1), undefined);
    }
  });

  test('calls that come and go in sequence keep one slot array and no overflow map (no per-call table rebuilds for the GC to keep alive)', () => {
    const table = new IdTable<Call>();
    const insides = table as unknown as Insides;
    for (let id = 1; id <= 64; id++) table.set(new Call(id));
    const slots = insides.slots;
    for (let id = 65; id <= 100_000; id++) {
      // answers arrive out of order within a window of 64 calls in flight
      const done = id - 64 + ((id * 7) % 3) - 1;
      if (table.delete(done) === false) table.delete(id - 64);
      table.set(new Call(id));
      assert.ok(table.size <= 66);
    }
    assert.equal(insides.slots, slots, 'the slot array was replaced');
    assert.equal(insides.overflow?.size ?? 0, 0);
  });

  test('two live ids with the same slot are both kept, and removing one leaves the other', () => {
    const table = new IdTable<Call>();
    const slotCount = (table as unknown as Insides).slots.length;
    const a = new Call(5);
    const b = new Call(5 + slotCount);
    table.set(a);
    table.set(b);
    assert.equal(table.get(5), a);
    assert.equal(table.get(5 + slotCount), b);
    assert.equal(table.delete(5), true);
    assert.equal(table.get(5), undefined);
    assert.equal(table.get(5 + slotCount), b);
    assert.equal(table.delete(5), false);
    assert.equal(table.size, 1);
  });

  test(`grows to ${MAX_ID_TABLE_SLOTS} slots at most; entries beyond half of that are kept all the same`, () => {
    const table = new IdTable<Call>();
    const count = MAX_ID_TABLE_SLOTS * 2;
    for (let id = 1; id <= count; id++) table.set(new Call(id));
    assert.equal((table as unknown as Insides).slots.length, MAX_ID_TABLE_SLOTS);
    assert.equal(table.size, count);
    for (let id = 1; id <= count; id++) assert.equal(table.get(id)?.id, id);
    for (let id = 1; id <= count; id += 2) assert.equal(table.delete(id), true);
    assert.equal(table.size, count / 2);
    for (let id = 1; id <= count; id++) assert.equal(table.has(id), id % 2 === 0);
  });
});
