/** A registry's address: `'host:port'` or an object. */
export type RegistryAddress = string | { host: string; port: number };

export function parseRegistryAddress(address: RegistryAddress): { host: string; port: number } {
  if (typeof address !== 'string') return address;
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`registry address must be host:port, got '${address}'`);
  return { host: address.slice(0, at), port };
}
