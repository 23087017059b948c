import { getMetadataStorage, type MethodOptions } from '../metadata/metadata-storage';

/** Marks a method as callable over RPC. */
export function Method(options: MethodOptions = {}): MethodDecorator {
  return (prototype, propertyKey, descriptor) => {
    getMetadataStorage().addMethod({
      target: prototype.constructor,
      name: String(propertyKey),
      options: { ...options },
      isFunction: typeof descriptor.value === 'function',
    });
  };
}
