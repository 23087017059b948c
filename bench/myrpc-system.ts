import 'reflect-metadata';
import { RpcClient, RpcServer, type ServiceProxy } from '../src/index';
import { BenchService } from './bench-service';
import { LOOPBACK, type BenchClient } from './workloads';
import type { BenchServer } from './systems';

export async function startMyRpcServer(): Promise<BenchServer> {
  const server = new RpcServer();
  server.register(new BenchService());
  server.on('clientError', (err, peer) => console.error(`[myrpc server] client error from ${peer}: ${err.code} ${err.message}`));
  server.on('handlerError', (err) => console.error('[myrpc server] handler error', err));
  const { port } = await server.listen(0, LOOPBACK);
  return {
    port,
    connections: () => server.connectionCount,
    close: () => server.close({ graceMs: 100 }),
  };
}

/** One RpcClient (one connection) and its typed proxy. */
export class MyRpcClient implements BenchClient {
  private constructor(
    private readonly client: RpcClient,
    private readonly proxy: ServiceProxy<BenchService>,
  ) {}

  static async open(port: number, codec: 'json' | 'msgpack'): Promise<MyRpcClient> {
    const client = new RpcClient({ host: LOOPBACK, port, codec });
    await client.connect();
    return new MyRpcClient(client, client.proxy(BenchService));
  }

  add(a: number, b: number): Promise<number> {
    return this.proxy.add(a, b);
  }

  echo(s: string): Promise<string> {
    return this.proxy.echo(s);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
