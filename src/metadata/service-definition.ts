import type { AnyClass, MethodOptions } from './metadata-storage';
import type { ParamType } from './param-types';

/** A checked, inheritance-resolved view of one `@Service` class. Built once per class and cached. */
export interface ServiceDefinition {
  readonly name: string;
  readonly target: AnyClass;
  readonly methods: ReadonlyMap<string, MethodDefinition>;
}

export interface MethodDefinition {
  readonly service: string;
  readonly name: string;
  readonly options: Readonly<MethodOptions>;
  /**
   * Declared types of the wire arguments (the context parameter excluded): `params` when given, else
   * `design:paramtypes`; `undefined` where neither says (any value is accepted there).
   */
  readonly paramTypes: readonly (ParamType | undefined)[];
  /** Index of the `@Ctx` parameter in the handler's signature, or -1. It is always the last one. */
  readonly contextIndex: number;
  readonly shardKey?: ShardKeyDefinition;
}

export interface ShardKeyDefinition {
  /** Index among the wire arguments. */
  readonly index: number;
  /** Property path inside that argument; empty for the argument itself. */
  readonly path: readonly string[];
}
