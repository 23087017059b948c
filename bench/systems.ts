import type * as GrpcSystem from './grpc-system';
import type * as MyRpcSystem from './myrpc-system';
import type * as RawSystem from './raw-system';
import type { BenchClient, SystemName } from './workloads';

/** A server under test, listening on 127.0.0.1 at `port`. */
export interface BenchServer {
  port: number;
  /** Open connections as the server counts them; -1 when the system does not tell. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * Each system's module is loaded only by the processes that run it, so that a server's RSS counts its own code
 * only. (A dynamic `import()` would stay an ES import under module node16 and need file extensions.)
 */
function load<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as T;
}

type RawModule = typeof RawSystem;
type GrpcModule = typeof GrpcSystem;
type MyRpcModule = typeof MyRpcSystem;

export async function startServer(system: SystemName): Promise<BenchServer> {
  switch (system) {
    case 'raw':
      return load<RawModule>('./raw-system').startRawServer(false);
    case 'raw-tls':
      return load<RawModule>('./raw-system').startRawServer(true);
    case 'grpc':
      return load<GrpcModule>('./grpc-system').startGrpcServer();
    case 'myrpc-json':
    case 'myrpc-msgpack':
    case 'myrpc-cluster':
      return load<MyRpcModule>('./myrpc-system').startMyRpcServer();
    case 'myrpc-tls':
      return load<MyRpcModule>('./myrpc-system').startMyRpcServer({ tls: true });
    case 'myrpc-intercepted':
      return load<MyRpcModule>('./myrpc-system').startMyRpcServer({ intercepted: true });
  }
}

/** Opens one connection to the server and resolves once it can carry calls. */
export async function openClient(system: SystemName, port: number): Promise<BenchClient> {
  switch (system) {
    case 'raw':
      return load<RawModule>('./raw-system').RawClient.open(port, false);
    case 'raw-tls':
      return load<RawModule>('./raw-system').RawClient.open(port, true);
    case 'grpc':
      return load<GrpcModule>('./grpc-system').GrpcClient.open(port);
    case 'myrpc-json':
      return load<MyRpcModule>('./myrpc-system').MyRpcClient.open(port, 'json');
    case 'myrpc-msgpack':
      return load<MyRpcModule>('./myrpc-system').MyRpcClient.open(port, 'msgpack');
    case 'myrpc-cluster':
      return load<MyRpcModule>('./myrpc-system').MyRpcClusterClient.open(port);
    case 'myrpc-tls':
      return load<MyRpcModule>('./myrpc-system').MyRpcClient.open(port, 'json', { tls: true });
    case 'myrpc-intercepted':
      return load<MyRpcModule>('./myrpc-system').MyRpcClient.open(port, 'json', { intercepted: true });
  }
}
