// The sharded key-value contract: every key lives on the server its shard key hashes to.
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { Method, Service, ShardKey, unimplemented } from 'myrpc';

export class IncrementRequest {
  @IsString()
  @Length(1, 200)
  key!: string;

  @IsInt()
  @Min(-1_000_000)
  @Max(1_000_000)
  by!: number;
}

export interface KvEntry {
  key: string;
  value: string | null;
  /** The server that answered, so callers (and the demo) can see the routing. */
  server: string;
}

export interface KvStats {
  server: string;
  keys: number;
}

/* eslint-disable @typescript-eslint/no-unused-vars -- a contract declares signatures; the server overrides them */
@Service('KeyValue')
export class KeyValueContract {
  @Method({ idempotent: true })
  get(@ShardKey() key: string): KvEntry {
    return unimplemented();
  }

  /** Setting a key to a value twice is the same as once: safe to retry. */
  @Method({ idempotent: true })
  put(@ShardKey() key: string, value: string): KvEntry {
    return unimplemented();
  }

  /** Not idempotent: a retry after it may have run would count twice, so the cluster client never retries it then. */
  @Method()
  increment(@ShardKey('key') request: IncrementRequest): number {
    return unimplemented();
  }

  @Method()
  stats(): KvStats {
    return unimplemented();
  }
}
/* eslint-enable @typescript-eslint/no-unused-vars */
