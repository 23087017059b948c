import 'reflect-metadata';
import { RpcServer } from 'myrpc';
import { KeyValueService } from './kv-service';

export async function startKvServer(name: string, port = 0, host = '127.0.0.1'): Promise<{ server: RpcServer; port: number }> {
  const server = new RpcServer().register(new KeyValueService(name));
  const address = await server.listen(port, host);
  return { server, port: address.port };
}

// `node dist/samples/sharded-kv/server.js <name> [port]`: prints its port (and sends it over IPC when forked).
if (require.main === module) {
  void (async () => {
    const name = process.argv[2] ?? `kv-${process.pid}`;
    const { server, port } = await startKvServer(name, Number(process.argv[3] ?? 0));
    console.log(`${name} listening on 127.0.0.1:${port}`);
    process.send?.({ name, port });
    const stop = (): void => void server.close({ graceMs: 2000 }).then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('message', (m) => m === 'stop' && stop());
  })();
}
