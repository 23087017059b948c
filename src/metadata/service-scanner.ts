import 'reflect-metadata';
import { getMetadataStorage, type AnyClass, type MethodRecord, type ParamRecord } from './metadata-storage';
import type { MethodDefinition, ServiceDefinition, ShardKeyDefinition } from './service-definition';

/** A mistake in how a service class is decorated; thrown when the class is registered or proxied. */
export class ServiceDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceDefinitionError';
  }
}

const cache = new WeakMap<AnyClass, ServiceDefinition>();
const PRIMITIVES = new Set<unknown>([String, Number, Boolean, Symbol, BigInt]);

/** Reads, checks and caches the definition of a `@Service` class (or a subclass of one). */
export function scanService(target: AnyClass): ServiceDefinition {
  let def = cache.get(target);
  if (!def) {
    def = buildDefinition(target);
    cache.set(target, def);
  }
  return def;
}

/** Base class first, so a subclass's records override its parent's. */
function classChain(target: AnyClass): AnyClass[] {
  const chain: AnyClass[] = [];
  for (let c: unknown = target; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    chain.unshift(c as AnyClass);
  }
  return chain;
}

function buildDefinition(target: AnyClass): ServiceDefinition {
  const storage = getMetadataStorage();
  const chain = classChain(target);
  const methods = new Map<string, MethodRecord>();
  const params = new Map<string, ParamRecord[]>();
  let serviceName: string | undefined;
  for (const cls of chain) {
    const service = storage.ownService(cls);
    if (service) serviceName = service.name;
    for (const m of storage.ownMethods(cls)) methods.set(m.name, m);
    for (const p of storage.ownParams(cls)) collectParam(params, p);
  }
  const className = target.name || '<anonymous class>';
  if (serviceName === undefined) {
    const member = methods.keys().next().value;
    const where = member === undefined ? '' : ` (its member '${member}' is decorated with @Method)`;
    throw new ServiceDefinitionError(`class ${className} is not decorated with @Service${where}`);
  }
  if (!/^[A-Za-z_][\w.-]*$/.test(serviceName)) {
    throw new ServiceDefinitionError(`class ${className}: service name '${serviceName}' must match /^[A-Za-z_][\\w.-]*$/`);
  }
  for (const [method, list] of params) {
    if (!methods.has(method)) {
      throw new ServiceDefinitionError(`${className}.${method}: @${paramDecoratorName(list[0])} on a method without @Method`);
    }
  }
  if (methods.size === 0) throw new ServiceDefinitionError(`service class ${className} has no @Method`);
  const defs = new Map<string, MethodDefinition>();
  for (const record of methods.values()) {
    defs.set(record.name, defineMethod(target, className, serviceName, record, params.get(record.name) ?? []));
  }
  return { name: serviceName, target, methods: defs };
}

function collectParam(params: Map<string, ParamRecord[]>, p: ParamRecord): void {
  const list = params.get(p.method) ?? [];
  const i = list.findIndex((q) => q.index === p.index && q.kind === p.kind);
  if (i >= 0) list[i] = p;
  else list.push(p);
  params.set(p.method, list);
}

function paramDecoratorName(p: ParamRecord | undefined): string {
  return p?.kind === 'context' ? 'Ctx' : 'ShardKey';
}

function defineMethod(
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
  const declared = (Reflect.getMetadata('design:paramtypes', target.prototype, record.name) ?? []) as (AnyClass | undefined)[];
  const arity = Math.max(declared.length, (fn as AnyClass).length);
  const contextIndex = findContextIndex(where, params, arity);
  const paramTypes = declared.slice(0, contextIndex >= 0 ? contextIndex : arity);
  while (paramTypes.length < (contextIndex >= 0 ? contextIndex : arity)) paramTypes.push(undefined);
  const shardKey = findShardKey(where, params, paramTypes, contextIndex);
  checkTimeout(where, record.options.timeoutMs);
  return { service, name: record.name, options: record.options, paramTypes, contextIndex, shardKey };
}

function findContextIndex(where: string, params: ParamRecord[], arity: number): number {
  const ctx = params.filter((p) => p.kind === 'context');
  if (ctx.length > 1) throw new ServiceDefinitionError(`${where}: more than one @Ctx parameter`);
  if (ctx.length === 0) return -1;
  if (ctx[0].index !== arity - 1) {
    throw new ServiceDefinitionError(`${where}: the @Ctx parameter must be the last one (it is #${ctx[0].index})`);
  }
  return ctx[0].index;
}

function findShardKey(
  where: string,
  params: ParamRecord[],
  paramTypes: readonly (AnyClass | undefined)[],
  contextIndex: number,
): ShardKeyDefinition | undefined {
  const keys = params.filter((p) => p.kind === 'shardKey');
  if (keys.length > 1) {
    const at = keys.map((k) => `#${k.index}`).join(' and ');
    throw new ServiceDefinitionError(`${where}: two @ShardKey parameters (${at}); a call routes by one key`);
  }
  if (keys.length === 0) return undefined;
  const key = keys[0];
  if (key.index === contextIndex) throw new ServiceDefinitionError(`${where}: @ShardKey on the @Ctx parameter`);
  const path = key.path === undefined || key.path === '' ? [] : key.path.split('.');
  if (path.some((part) => part === '')) throw new ServiceDefinitionError(`${where}: @ShardKey path '${key.path}' has an empty segment`);
  if (path.length > 0 && PRIMITIVES.has(paramTypes[key.index])) {
    throw new ServiceDefinitionError(`${where}: @ShardKey('${key.path}') takes a property path, but parameter #${key.index} is a primitive`);
  }
  return { index: key.index, path };
}

function checkTimeout(where: string, timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new ServiceDefinitionError(`${where}: @Method timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  }
}
