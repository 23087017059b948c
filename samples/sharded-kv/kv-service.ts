import { KeyValueContract, type IncrementRequest, type KvEntry, type KvStats } from './contract';

/** One shard: an in-memory map. */
export class KeyValueService extends KeyValueContract {
  private readonly data = new Map<string, string>();

  constructor(private readonly name: string) {
    super();
  }

  override get(key: string): KvEntry {
    return { key, value: this.data.get(key) ?? null, server: this.name };
  }

  override put(key: string, value: string): KvEntry {
    this.data.set(key, value);
    return { key, value, server: this.name };
  }

  override increment(request: IncrementRequest): number {
    const next = Number(this.data.get(request.key) ?? '0') + request.by;
    this.data.set(request.key, String(next));
    return next;
  }

  override stats(): KvStats {
    return { server: this.name, keys: this.data.size };
  }
}
