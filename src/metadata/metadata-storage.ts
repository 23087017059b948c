/**
 * The one place decorator records live, keyed by constructor (as class-validator does). Decorators only
 * record here; the scanner reads, checks and resolves inheritance.
 */

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type AnyClass = Function;

export interface ServiceRecord {
  target: AnyClass;
  name: string;
}

export interface MethodOptions {
  /** Upper bound on how long this method's handler may run, in ms (the server's handle timeout). */
  timeoutMs?: number;
  /** The method may safely run more than once for one call, so clients may retry it after it may have run. */
  idempotent?: boolean;
  /** Open data about the method for interceptors (e.g. `{ roles: ['admin'] }`), read as `call.meta`. Not sent to clients. */
  meta?: Readonly<Record<string, unknown>>;
  /**
   * For `@ShardKey` methods on a cluster client: when the key's owner is unavailable or fails, `next` sends
   * the call to the next endpoint along the ring (within the failover rules); `fail` fails it (owner or
   * nothing). Default `next` for idempotent methods, `fail` for the others.
   */
  shardFailover?: 'next' | 'fail';
}

export interface MethodRecord {
  target: AnyClass;
  name: string;
  options: MethodOptions;
  /** False when the decorated member is not a function (a definition mistake reported when scanned). */
  isFunction: boolean;
}

export interface ParamRecord {
  target: AnyClass;
  method: string;
  index: number;
  kind: 'shardKey' | 'context';
  /** For `shardKey`: a dotted property path inside the parameter, or undefined for the value itself. */
  path?: string;
}

export class MetadataStorage {
  private readonly services = new Map<AnyClass, ServiceRecord>();
  private readonly methods = new Map<AnyClass, MethodRecord[]>();
  private readonly params = new Map<AnyClass, ParamRecord[]>();
  private readonly serviceRecords: ServiceRecord[] = [];

  addService(record: ServiceRecord): void {
    this.services.set(record.target, record);
    this.serviceRecords.push(record);
  }

  addMethod(record: MethodRecord): void {
    push(this.methods, record.target, record);
  }

  addParam(record: ParamRecord): void {
    push(this.params, record.target, record);
  }

  /** The `@Service` record on exactly this class (not inherited). */
  ownService(target: AnyClass): ServiceRecord | undefined {
    return this.services.get(target);
  }

  ownMethods(target: AnyClass): readonly MethodRecord[] {
    return this.methods.get(target) ?? [];
  }

  ownParams(target: AnyClass): readonly ParamRecord[] {
    return this.params.get(target) ?? [];
  }

  /** Classes that carry method or parameter records, for "method outside a service" checks. */
  hasMemberRecords(target: AnyClass): boolean {
    return this.methods.has(target) || this.params.has(target);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const GLOBAL_KEY = Symbol.for('myrpc.metadataStorage');

/** One storage per process, shared even by two copies of the package (decorators in one, server in another). */
export function getMetadataStorage(): MetadataStorage {
  const g = globalThis as unknown as Record<symbol, MetadataStorage | undefined>;
  let storage = g[GLOBAL_KEY];
  if (!storage) {
    storage = new MetadataStorage();
    g[GLOBAL_KEY] = storage;
  }
  return storage;
}
