import type { ParamType } from './param-types';

/**
 * The one place decorator records live, keyed by constructor (as class-validator does). Decorators only
 * record here; the scanner reads, checks and resolves inheritance.
 */

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type AnyClass = Function;

/** Where a `@Method` record comes from when standard decorators made it: no class is known yet, only the function. */
export interface StandardMethodRecord {
  name: string;
  options: MethodOptions;
}

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
   * The declared type of each wire argument, in order (the context parameter left out). Wins over
   * `design:paramtypes`; needed wherever that metadata is not emitted (standard decorators, tsx, esbuild, vitest).
   * Each entry is a {@link ParamType}; `[T]` is read as `arrayOf(T)`.
   */
  params?: readonly (ParamType | readonly [ParamType])[];
  /**
   * The argument that routes the call (what `@ShardKey` marks): a number is an argument's index; a string is a
   * dotted property path inside argument #0 (`'user.id'`), or inside argument #N when it starts with `N.`.
   */
  shardKey?: number | string;
  /** The handler's last parameter receives the `CallContext` (what `@Ctx()` marks). Default false. */
  context?: boolean;
  /**
   * For `@ShardKey` methods on a cluster client: when the key's owner is unavailable or fails, `next` sends
   * the call to the next endpoint along the ring (within the failover rules); `fail` fails it (owner or
   * nothing). Default `next` for idempotent methods, `fail` for the others.
   */
  shardFailover?: 'next' | 'fail';
  /**
   * `'server'`: the handler returns an `AsyncIterable` whose items are streamed to the caller (an `async *`
   * method streams without it). `'client'`: the first parameter is an `AsyncIterable` of items sent by the
   * caller, and the handler returns one result. `'bidi'`: both at once. See docs/STREAMING.md.
   */
  stream?: 'server' | 'client' | 'bidi';
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
  // Standard decorators see a method before its class exists, so their records are keyed by the function and
  // found when a class is scanned by walking its prototype.
  private readonly standardMethods = new WeakMap<AnyClass, StandardMethodRecord>();

  addService(record: ServiceRecord): void {
    this.services.set(record.target, record);
    this.serviceRecords.push(record);
  }

  addMethod(record: MethodRecord): void {
    push(this.methods, record.target, record);
  }

  addStandardMethod(fn: AnyClass, record: StandardMethodRecord): void {
    this.standardMethods.set(fn, record);
  }

  addParam(record: ParamRecord): void {
    push(this.params, record.target, record);
  }

  /** The `@Service` record on exactly this class (not inherited). */
  ownService(target: AnyClass): ServiceRecord | undefined {
    return this.services.get(target);
  }

  /** Methods decorated on exactly this class, in either decorator mode. */
  ownMethods(target: AnyClass): readonly MethodRecord[] {
    const legacy = this.methods.get(target) ?? [];
    const standard = this.ownStandardMethods(target);
    return standard.length === 0 ? legacy : [...legacy, ...standard];
  }

  private ownStandardMethods(target: AnyClass): MethodRecord[] {
    const proto = (target as { prototype?: object }).prototype;
    if (typeof proto !== 'object' || proto === null) return [];
    const out: MethodRecord[] = [];
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = Object.getOwnPropertyDescriptor(proto, key)?.value as unknown;
      const record = typeof value === 'function' ? this.standardMethods.get(value) : undefined;
      if (record && record.name === key) out.push({ target, name: key, options: record.options, isFunction: true });
    }
    return out;
  }

  ownParams(target: AnyClass): readonly ParamRecord[] {
    return this.params.get(target) ?? [];
  }

  /** Classes that carry method or parameter records, for "method outside a service" checks. */
  hasMemberRecords(target: AnyClass): boolean {
    return this.methods.has(target) || this.params.has(target) || this.ownStandardMethods(target).length > 0;
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
