import type * as GrpcStream from './grpc-stream';
import type * as GrpcSystem from './grpc-system';
import type * as MyRpcStream from './myrpc-stream';
import type * as RawStream from './raw-stream';
import type { StreamConsumer, StreamSystem } from './stream-consumer';

/** Each system's module is loaded only by the processes that run it (as bench/systems.ts does). */
function load<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as T;
}

export async function startStreamServer(system: StreamSystem): Promise<{ port: number; close(): Promise<void> }> {
  switch (system) {
    case 'raw':
      return load<typeof RawStream>('./raw-stream').startRawStreamServer();
    case 'grpc':
      return load<typeof GrpcSystem>('./grpc-system').startGrpcServer();
    case 'myrpc-json':
    case 'myrpc-msgpack':
      return load<typeof MyRpcStream>('./myrpc-stream').startMyRpcStreamServer();
  }
}

export async function openStreamConsumer(system: StreamSystem, port: number): Promise<StreamConsumer> {
  switch (system) {
    case 'raw':
      return load<typeof RawStream>('./raw-stream').RawStreamConsumer.open(port);
    case 'grpc':
      return load<typeof GrpcStream>('./grpc-stream').GrpcStreamConsumer.open(port);
    case 'myrpc-json':
      return load<typeof MyRpcStream>('./myrpc-stream').MyRpcStreamConsumer.open(port, 'json');
    case 'myrpc-msgpack':
      return load<typeof MyRpcStream>('./myrpc-stream').MyRpcStreamConsumer.open(port, 'msgpack');
  }
}
