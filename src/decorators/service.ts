import { getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Marks a class as an RPC service. The name defaults to the class name; clients and servers must agree on it,
 * so give it explicitly when minifiers or contract classes could change the class name.
 */
export function Service(name?: string): ClassDecorator {
  return (target) => {
    getMetadataStorage().addService({ target, name: name ?? target.name });
  };
}
