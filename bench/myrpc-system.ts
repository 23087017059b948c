import 'reflect-metadata';
import { ClusterClient, RpcClient, RpcServer, type ClientInterceptor, type ServerInterceptor, type ServiceProxy } from '../src/index';
import { benchTls } from './tls-material';
import { BenchService } from './bench-service';
import { LOOPBACK, type BenchClient } from './workloads';
import type { BenchServer } from './systems';

/** How a MyRPC system differs from plain JSON over TCP. */
export interface Variant {
  /** TLS on the connection. */
  tls?: boolean;
  /** One pass-through interceptor on the server and one on the client: what the interceptor machinery costs. */
  intercepted?: boolean;
}

const passThroughServer: ServerInterceptor = (next) => (call) => next(call);
const passThroughClient: ClientInterceptor = (next) => (call) => next(call);

export async function startMyRpcServer(variant: Variant = {}): Promise<BenchServer> {
  const server = new RpcServer({
    tls: variant.tls ? benchTls() : undefined,
    interceptors: variant.intercepted ? [passThroughServer] : [],
  });
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

  static async open(port: number, codec: 'json' | 'msgpack', variant: Variant = {}): Promise<MyRpcClient> {
    const tls = variant.tls ? { ca: benchTls().ca } : undefined;
    const client = new RpcClient({ host: LOOPBACK, port, codec, tls, interceptors: variant.intercepted ? [passThroughClient] : [] });
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
