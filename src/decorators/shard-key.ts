import { getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Marks the parameter whose value routes the call (consistent hashing in the cluster client). `path` picks a
 * property inside a DTO parameter, e.g. `@ShardKey('user.id')`.
 */
export function ShardKey(path?: string): ParameterDecorator {
  return (prototype, propertyKey, index) => {
    if (propertyKey === undefined) return; // constructor parameter: reported by the scanner as not a method
    getMetadataStorage().addParam({
      target: prototype.constructor,
      method: String(propertyKey),
      index,
      kind: 'shardKey',
      path,
    });
  };
}
