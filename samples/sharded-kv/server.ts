import 'reflect-metadata';
import { announce, RegistryRegistrar, RpcServer } from 'myrpc';
import { KeyValueService } from './kv-service';

export const KV_SERVICE = 'KeyValue';

export async function startKvServer(name: string, port = 0, host = '127.0.0.1'): Promise<{ server: RpcServer; port: number }> {
  const server = new RpcServer().register(new KeyValueService(name));
  const address = await server.listen(port, host);
  return { server, port: address.port };
}

/**
 * `node dist/samples/sharded-kv/server.js <name> [port] [--registry host:port] [--ttl ms]`: prints its port
 * (and sends it over IPC when forked); with --registry, announces itself there and deregisters on SIGTERM.
 */
if (require.main === module) {
  void (async () => {
    const argv = process.argv.slice(2);
    const flag = (name: string): string | undefined => {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 ? argv.splice(i, 2)[1] : undefined;
    };
    const registry = flag('registry');
    const ttlMs = Number(flag('ttl') ?? 3000);
    const name = argv[0] ?? `kv-${process.pid}`;
    const { server, port } = await startKvServer(name, Number(argv[1] ?? 0));
    if (registry)
      await announce(server, new RegistryRegistrar({ registry, ttlMs }), { service: KV_SERVICE, metadata: { name, version: '1' } });
    console.log(`${name} listening on 127.0.0.1:${port}${registry ? `, registered with ${registry}` : ''}`);
    process.send?.({ name, port });
    const stop = (): void => void server.close({ graceMs: 2000 }).then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('message', (m) => m === 'stop' && stop());
  })();
}
