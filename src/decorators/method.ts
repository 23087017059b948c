import { getMetadataStorage, type AnyClass, type MethodOptions } from '../metadata/metadata-storage';
import { ServiceDefinitionError } from '../metadata/service-definition-error';

/** The shape of the context a standard (TC39) method decorator receives; only the fields `@Method` reads. */
export interface StandardMemberContext {
  readonly kind: string;
  readonly name: string | symbol;
  readonly static?: boolean;
  readonly private?: boolean;
}

/**
 * The decorator `@Method` returns: it works with TypeScript's legacy decorators (`experimentalDecorators`) and
 * with standard (TC39) decorators, telling them apart by how it is called.
 */
export type MethodDecoratorBoth = MethodDecorator & ((value: unknown, context: StandardMemberContext) => void);

/**
 * Marks a method as callable over RPC. Works in both decorator modes; without `design:paramtypes` (standard
 * decorators, tsx, esbuild, vitest) a method with parameters needs `params`, or `register()` refuses it.
 */
export function Method(options: MethodOptions = {}): MethodDecoratorBoth {
  const recorded = { ...options };
  return ((target: unknown, key: unknown, descriptor?: PropertyDescriptor) => {
    if (isStandardContext(key)) {
      recordStandard(target, key, recorded);
      return undefined;
    }
    getMetadataStorage().addMethod({
      target: (target as { constructor: AnyClass }).constructor,
      name: String(key),
      options: recorded,
      isFunction: typeof descriptor?.value === 'function',
    });
    return undefined;
  }) as MethodDecoratorBoth;
}

export function isStandardContext(value: unknown): value is StandardMemberContext {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}

function recordStandard(value: unknown, context: StandardMemberContext, options: MethodOptions): void {
  const name = String(context.name);
  // No class is known yet, so a misplaced decorator cannot wait for register() to be reported.
  if (context.kind !== 'method' || typeof value !== 'function') {
    throw new ServiceDefinitionError(`@Method is on '${name}', a ${context.kind}, not a method`);
  }
  if (context.static === true)
    throw new ServiceDefinitionError(`@Method is on the static method '${name}'; RPC methods are instance methods`);
  if (context.private === true) throw new ServiceDefinitionError(`@Method is on the private method '${name}'; RPC methods are public`);
  if (typeof context.name === 'symbol') throw new ServiceDefinitionError(`@Method is on a method named by a symbol (${name})`);
  getMetadataStorage().addStandardMethod(value as AnyClass, { name, options });
}
