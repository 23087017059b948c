/** What an {@link IdTable} holds: anything that carries its own request id. */
export interface HasId {
  readonly id: number;
}

/** Slots a table starts with: enough for the calls a quiet connection has in flight. */
const INITIAL_SLOTS = 16;
/**
 * The most slots a table grows to (128 KiB of pointers, reached only with more than 8,192 calls in flight on
 * one connection; a table does not shrink while its connection lives). Entries whose slot is taken go to the
 * overflow map.
 */
export const MAX_ID_TABLE_SLOTS = 16384;

/**
 * The calls in flight on one connection, by request id: a slot array indexed by the id's low bits, with a
 * `Map` for the entries whose slot is taken. Ids are handed out in sequence and most calls end in about the
 * order they began, so with fewer entries than half the slots nearly every entry has a slot of its own, and
 * adding, finding and removing one are an array store, load and clear.
 *
 * Why not a `Map` alone: a `Map` that has entries added and removed all the time rebuilds its hash table every
 * few dozen calls, and V8 keeps a link from each replaced table to its successor (for iterators still on the
 * old one). Once one replaced table has been promoted to the old generation, that link keeps every later
 * table, and the calls they hold, alive through each young-generation collection, until the next full one:
 * under load every scavenge then copies and promotes megabytes of finished calls (measured: 1.5 MB per
 * scavenge and 4 ms pauses instead of 0.3 ms at 64 calls in flight). The slot array is allocated once and
 * only written.
 */
export class IdTable<T extends HasId> {
  private slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  /** Entries whose slot was taken when they were added; created on first use. */
  private overflow: Map<number, T> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const entry = this.slots[id & this.mask];
    if (entry !== undefined && entry.id === id) return entry;
    return this.overflow?.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `entry` under `entry.id`, replacing an entry with the same id. */
  set(entry: T): void {
    const id = entry.id;
    const slot = id & this.mask;
    const current = this.slots[slot];
    if (current !== undefined && current.id === id) {
      this.slots[slot] = entry;
      return;
    }
    if (this.overflow?.has(id)) {
      this.overflow.set(id, entry);
      return;
    }
    this.count++;
    if (current === undefined) this.slots[slot] = entry;
    else (this.overflow ??= new Map()).set(id, entry);
    if (this.count > this.slots.length >> 1 && this.slots.length < MAX_ID_TABLE_SLOTS) this.grow();
  }

  /** Removes the entry with this id; false when there was none. */
  delete(id: number): boolean {
    const slot = id & this.mask;
    const entry = this.slots[slot];
    if (entry !== undefined && entry.id === id) {
      this.slots[slot] = undefined;
      this.count--;
      return true;
    }
    if (this.overflow?.delete(id)) {
      this.count--;
      return true;
    }
    return false;
  }

  /** A copy of the entries in id order (the order they were added, until ids wrap): callers may change the table meanwhile. */
  values(): T[] {
    return this.entries().sort((a, b) => a.id - b.id);
  }

  clear(): void {
    this.slots.fill(undefined);
    this.overflow = undefined;
    this.count = 0;
  }

  private entries(): T[] {
    const out: T[] = [];
    for (const entry of this.slots) if (entry !== undefined) out.push(entry);
    if (this.overflow) for (const entry of this.overflow.values()) out.push(entry);
    return out;
  }

  /** Doubles the slots and places every entry again (the overflow ones first get a chance at a slot). */
  private grow(): void {
    const entries = this.entries();
    this.slots = new Array<T | undefined>(this.slots.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    this.overflow = undefined;
    for (const entry of entries) {
      const slot = entry.id & this.mask;
      if (this.slots[slot] === undefined) this.slots[slot] = entry;
      else (this.overflow ??= new Map()).set(entry.id, entry);
    }
  }
}
