import { getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Marks the parameter that receives the server-side {@link CallContext} (signal, deadline, metadata, peer).
 * Clients never pass it: the typed proxy drops parameters of type `CallContext`.
 */
export function Ctx(): ParameterDecorator {
  return (prototype, propertyKey, index) => {
    if (propertyKey === undefined) return;
    getMetadataStorage().addParam({ target: prototype.constructor, method: String(propertyKey), index, kind: 'context' });
  };
}
