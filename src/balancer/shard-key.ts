import { RpcCode, RpcError } from '../errors/rpc-error';
import type { MethodDefinition } from '../metadata/service-definition';

/**
 * The canonical text of a shard key, the same in every process and language: a string is itself; an integer
 * (number or bigint) is its decimal form; a boolean is `true`/`false`. Anything else (objects, fractional or
 * non-finite numbers, null, undefined) is refused, so a key never routes by accident.
 */
export function canonicalShardKey(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? String(value) : undefined;
    case 'bigint':
      return value.toString(10);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return undefined;
  }
}

/** Reads the shard key of one call from its arguments; throws `INVALID_ARGUMENT` when it is missing or unusable. */
export function extractShardKey(def: MethodDefinition, args: readonly unknown[]): string {
  const key = def.shardKey;
  if (!key) throw new RpcError(RpcCode.INTERNAL, `${def.service}.${def.name} has no @ShardKey`);
  let value: unknown = args[key.index];
  for (const part of key.path) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  }
  const text = canonicalShardKey(value);
  if (text === undefined) {
    const where = `args[${key.index}]${key.path.map((p) => `.${p}`).join('')}`;
    throw new RpcError(
      RpcCode.INVALID_ARGUMENT,
      `${def.service}.${def.name}: the shard key ${where} must be a string, an integer or a boolean, got ${describe(value)}`,
      {
        details: [
          { path: where, constraint: 'shardKey', message: `${where} is the shard key and must be a string, an integer or a boolean` },
        ],
        mayHaveRun: false,
      },
    );
  }
  return text;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return `the number ${value}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}
