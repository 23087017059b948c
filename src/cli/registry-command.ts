import { readFileSync } from 'node:fs';
import { REGISTRY_TOKEN_ENV } from '../discovery/registry-guard';
import { DEFAULT_REGISTRY_PORT, RegistryServer } from '../discovery/registry-server';
import { intFlag, stringFlag, type FlagSpecs, type ParsedArgs } from './args';

export const REGISTRY_FLAGS: FlagSpecs = {
  port: { type: 'string' },
  host: { type: 'string' },
  'token-file': { type: 'string' },
  insecure: { type: 'boolean' },
};

export const REGISTRY_HELP = `myrpc registry [--port N] [--host H] [--token-file F] [--insecure]

Runs the built-in service registry (state in memory; rebuilt from server renewals within one TTL after a
restart). Servers register with RegistryRegistrar; clients discover with RegistryDiscovery.

  --port N   port to listen on (default ${DEFAULT_REGISTRY_PORT}; 0 picks a free one)
  --host H   address to bind (default 127.0.0.1)
  --token-file F   shared secret servers must present to register (default: $${REGISTRY_TOKEN_ENV}, else none)
  --insecure       allow a non-loopback --host without a token

Stops on SIGINT or SIGTERM.`;

export async function registryCommand(args: ParsedArgs, out: (line: string) => void): Promise<number> {
  const port = intFlag(args, 'port', DEFAULT_REGISTRY_PORT);
  const host = stringFlag(args, 'host', '127.0.0.1');
  const tokenFile = args.flags.get('token-file');
  const token = typeof tokenFile === 'string' ? readFileSync(tokenFile, 'utf8').trim() : process.env[REGISTRY_TOKEN_ENV];
  const registry = new RegistryServer({ token: token || undefined, insecure: args.flags.has('insecure') });
  const address = await registry.listen(port, host);
  out(`myrpc registry listening on ${address.address}:${address.port}`);
  process.send?.({ port: address.port });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await registry.close();
  out('myrpc registry stopped');
  return 0;
}
