/** A mistake in how a service class is decorated; thrown when the class is registered or proxied. */
export class ServiceDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceDefinitionError';
  }
}
