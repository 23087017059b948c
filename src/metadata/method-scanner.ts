import 'reflect-metadata';
import type { AnyClass, MethodRecord, ParamRecord } from './metadata-storage';
import { describeEntry, isParamType, normalizeParamEntry, type ParamType } from './param-types';
import type { MethodDefinition, ShardKeyDefinition } from './service-definition';
import { ServiceDefinitionError } from './service-definition-error';
import { checkStreamOption } from '../stream/stream-kind';

const PRIMITIVES = new Set<unknown>([String, Number, Boolean, Symbol, BigInt]);
const PARAM_HELP = 'a class, Number, String, Boolean, Date, Uint8Array, Array, arrayOf(T) or a Standard Schema (zod, valibot, arktype)';

type Params = (ParamType | undefined)[];

/** Checks one `@Method` record and resolves its wire types, context parameter and shard key. */
export function defineMethod(
  target: AnyClass,
  className: string,
  service: string,
  record: MethodRecord,
  params: ParamRecord[],
): MethodDefinition {
  const where = `${className}.${record.name}`;
  if (!record.isFunction) throw new ServiceDefinitionError(`${where}: @Method is on a member that is not a method`);
  const fn = (target.prototype as Record<string, unknown>)[record.name];
  if (typeof fn !== 'function') throw new ServiceDefinitionError(`${where}: is not a method of the class`);
  const { options } = record;
  const ctx = params.filter((p) => p.kind === 'context');
  if (ctx.length > 1) throw new ServiceDefinitionError(`${where}: more than one @Ctx parameter`);
  if (ctx.length > 0 && options.context !== undefined)
    throw new ServiceDefinitionError(`${where}: both @Ctx() and @Method({ context }); use one`);
  if (options.context !== undefined && typeof options.context !== 'boolean') {
    throw new ServiceDefinitionError(`${where}: @Method context must be true or false, got ${String(options.context)}`);
  }
  const hasContext = ctx.length > 0 || options.context === true;
  const paramTypes = resolveParamTypes(where, target, record, fn as AnyClass, hasContext, ctx[0]);
  const contextIndex = hasContext ? paramTypes.length : -1;
  if (ctx.length > 0 && ctx[0].index !== contextIndex) {
    throw new ServiceDefinitionError(`${where}: the @Ctx parameter must be the last one (it is #${ctx[0].index})`);
  }
  const shardKey = findShardKey(where, record, params, paramTypes, contextIndex);
  checkTimeout(where, options.timeoutMs);
  checkStreamOption(where, options.stream, paramTypes.length, shardKey?.index, fn);
  return { service, name: record.name, options, paramTypes, contextIndex, shardKey };
}

/** `params` first, then `design:paramtypes`; with neither, only a method without wire parameters is accepted. */
function resolveParamTypes(
  where: string,
  target: AnyClass,
  record: MethodRecord,
  fn: AnyClass,
  hasContext: boolean,
  ctx: ParamRecord | undefined,
): Params {
  const ctxCount = hasContext ? 1 : 0;
  if (record.options.params !== undefined) return explicitParams(where, record.options.params, fn.length - ctxCount);
  const declared = Reflect.getMetadata('design:paramtypes', target.prototype, record.name) as (AnyClass | undefined)[] | undefined;
  const arity = Math.max(declared?.length ?? 0, fn.length, ctx ? ctx.index + 1 : 0);
  const wire = Math.max(0, arity - ctxCount);
  if (declared === undefined && wire > 0) {
    throw new ServiceDefinitionError(
      `${where}: the types of its ${wire} parameter(s) are unknown, so they could not be validated. ` +
        `Declare them with @Method({ params: [...] }) (${PARAM_HELP}), ` +
        'or compile with tsc and "experimentalDecorators": true, "emitDecoratorMetadata": true ' +
        '(tsx, esbuild, vitest and standard decorators emit no design:paramtypes)',
    );
  }
  const types: Params = (declared ?? []).slice(0, wire);
  while (types.length < wire) types.push(undefined);
  return types;
}

function explicitParams(where: string, params: unknown, declaredWire: number): Params {
  if (!Array.isArray(params))
    throw new ServiceDefinitionError(`${where}: @Method params must be an array of types, got ${describeEntry(params)}`);
  const types = params.map((raw: unknown, i) => {
    const entry = normalizeParamEntry(raw);
    if (!isParamType(entry))
      throw new ServiceDefinitionError(`${where}: params[${i}] is ${describeEntry(raw)}, not a type; use ${PARAM_HELP}`);
    return entry;
  });
  if (declaredWire > types.length) {
    throw new ServiceDefinitionError(
      `${where}: params lists ${types.length} type(s) but the method declares ${declaredWire} wire parameter(s)`,
    );
  }
  return types;
}

function findShardKey(
  where: string,
  record: MethodRecord,
  params: ParamRecord[],
  types: Params,
  contextIndex: number,
): ShardKeyDefinition | undefined {
  const keys = params.filter((p) => p.kind === 'shardKey');
  if (keys.length > 1) {
    const at = keys.map((k) => `#${k.index}`).join(' and ');
    throw new ServiceDefinitionError(`${where}: two @ShardKey parameters (${at}); a call routes by one key`);
  }
  const option = record.options.shardKey;
  if (keys.length > 0 && option !== undefined)
    throw new ServiceDefinitionError(`${where}: both @ShardKey and @Method({ shardKey }); use one`);
  let key: ShardKeyDefinition | undefined;
  let written = '';
  if (keys.length > 0) {
    if (keys[0].index === contextIndex) throw new ServiceDefinitionError(`${where}: @ShardKey on the @Ctx parameter`);
    key = { index: keys[0].index, path: splitPath(where, '@ShardKey', keys[0].path ?? '') };
    written = `@ShardKey('${keys[0].path ?? ''}')`;
  } else if (option !== undefined) {
    key = shardKeyOption(where, option, types.length);
    written = `@Method({ shardKey: '${String(option)}' })`;
  }
  if (key && key.path.length > 0 && PRIMITIVES.has(types[key.index])) {
    throw new ServiceDefinitionError(`${where}: ${written} takes a property path, but parameter #${key.index} is a primitive`);
  }
  return key;
}

/** `shardKey: 2` is argument #2; `'user.id'` is a path in argument #0; `'1.user.id'` a path in argument #1. */
function shardKeyOption(where: string, option: unknown, wire: number): ShardKeyDefinition {
  let index: number;
  let path: string[];
  if (typeof option === 'number') {
    index = option;
    path = [];
  } else if (typeof option === 'string' && option !== '') {
    path = splitPath(where, '@Method shardKey', option);
    index = /^\d+$/.test(path[0]) ? Number(path.shift()) : 0;
  } else {
    throw new ServiceDefinitionError(
      `${where}: @Method shardKey must be an argument index or a property path, got ${describeEntry(option)}`,
    );
  }
  if (!Number.isInteger(index) || index < 0 || index >= wire) {
    throw new ServiceDefinitionError(`${where}: @Method shardKey names argument #${index}, but the method takes ${wire} argument(s)`);
  }
  return { index, path };
}

function splitPath(where: string, what: string, raw: string): string[] {
  const path = raw === '' ? [] : raw.split('.');
  if (path.some((part) => part === '')) throw new ServiceDefinitionError(`${where}: ${what} path '${raw}' has an empty segment`);
  return path;
}

function checkTimeout(where: string, timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new ServiceDefinitionError(`${where}: @Method timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  }
}
