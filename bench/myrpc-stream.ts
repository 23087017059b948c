import 'reflect-metadata';
import { RpcClient, RpcServer, withOptions, type ServiceProxy } from '../src/index';
import { StreamBenchService, type StreamItem } from './stream-service';
import type { StreamConsumer, StreamItemKind } from './stream-consumer';
import { LOOPBACK } from './workloads';

export async function startMyRpcStreamServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new RpcServer().register(new StreamBenchService());
  server.on('clientError', (err, peer) => console.error(`[myrpc server] client error from ${peer}: ${err.code} ${err.message}`));
  server.on('handlerError', (err) => console.error('[myrpc server] handler error', err));
  const { port } = await server.listen(0, LOOPBACK);
  return { port, close: () => server.close({ graceMs: 100 }) };
}

/** A typed proxy over one RpcClient (one connection), consumed with `for await` as a user would. */
export class MyRpcStreamConsumer implements StreamConsumer {
  private constructor(
    private readonly client: RpcClient,
    private readonly proxy: ServiceProxy<StreamBenchService>,
  ) {}

  static async open(port: number, codec: 'json' | 'msgpack'): Promise<MyRpcStreamConsumer> {
    const client = new RpcClient({ host: LOOPBACK, port, codec });
    await client.connect();
    return new MyRpcStreamConsumer(client, client.proxy(StreamBenchService));
  }

  open(kind: StreamItemKind, onItem: (item: StreamItem) => void, onError: (err: unknown) => void): () => void {
    const abort = new AbortController();
    const items = withOptions(this.proxy, { timeoutMs: Infinity, signal: abort.signal }).items(kind);
    void (async () => {
      try {
        for await (const item of items) onItem(item);
      } catch (err) {
        if (!abort.signal.aborted) onError(err);
      }
    })();
    return () => abort.abort();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
