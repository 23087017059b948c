import { getMetadataStorage, type AnyClass } from '../metadata/metadata-storage';
import { isStandardContext } from './method';

/** The decorator `@Service` returns: legacy (`experimentalDecorators`) and standard (TC39) alike. */
export type ServiceDecoratorBoth = ClassDecorator & ((value: AnyClass, context: { readonly kind: string }) => void);

/**
 * Marks a class as an RPC service. The name defaults to the class name; clients and servers must agree on it,
 * so give it explicitly when minifiers or contract classes could change the class name.
 * Works in both decorator modes (a standard decorator is called with a second, context, argument).
 */
export function Service(name?: string): ServiceDecoratorBoth {
  return ((target: AnyClass, context?: unknown) => {
    if (context !== undefined && !(isStandardContext(context) && context.kind === 'class')) {
      throw new TypeError('@Service() decorates a class');
    }
    getMetadataStorage().addService({ target, name: name ?? target.name });
    return undefined;
  }) as ServiceDecoratorBoth;
}
