import { getMetadataStorage, type AnyClass, type MethodRecord, type ParamRecord } from './metadata-storage';
import { defineMethod } from './method-scanner';
import type { MethodDefinition, ServiceDefinition } from './service-definition';
import { ServiceDefinitionError } from './service-definition-error';

export { ServiceDefinitionError };

const cache = new WeakMap<AnyClass, ServiceDefinition>();

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
