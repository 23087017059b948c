import 'reflect-metadata';
import { ClusterClient, RpcClient, RpcServer, type ServiceProxy } from '../src/index';
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

/** A ClusterClient over one endpoint (one connection), JSON: what the cluster layer adds to a call. */
export class MyRpcClusterClient implements BenchClient {
  private constructor(
    private readonly cluster: ClusterClient,
    private readonly proxy: ServiceProxy<BenchService>,
  ) {}

  static async open(port: number): Promise<MyRpcClusterClient> {
    const cluster = new ClusterClient({ endpoints: [{ host: LOOPBACK, port }] });
    const proxy = cluster.proxy(BenchService);
    await proxy.add(0, 0); // the first call opens the connection
    return new MyRpcClusterClient(cluster, proxy);
  }

  add(a: number, b: number): Promise<number> {
    return this.proxy.add(a, b);
  }

  echo(s: string): Promise<string> {
    return this.proxy.echo(s);
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}
