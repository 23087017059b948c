import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOOPBACK, type BenchClient } from './workloads';
import type { BenchServer } from './systems';
import { grpcItems } from './grpc-stream';

/**
 * tsc does not copy .proto files, so the compiled bench (dist/bench/*.js) reads the source one: the repository
 * root is two levels above this file both as bench/grpc-system.ts and as dist/bench/grpc-system.js.
 */
function protoPath(): string {
  const candidates = [resolve(__dirname, '..', 'bench', 'bench.proto'), resolve(__dirname, '..', '..', 'bench', 'bench.proto')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`bench.proto not found (looked at ${candidates.join(', ')})`);
  return found;
}

export function benchService(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(protoPath(), { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as any;
  return pkg.myrpcbench.Bench as grpc.ServiceClientConstructor;
}

/** Never route loopback traffic through a proxy named in the environment. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.enable_http_proxy': 0 };

export async function startGrpcServer(): Promise<BenchServer> {
  const Bench = benchService();
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(Bench.service, {
    Add: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(null, { result: call.request.a + call.request.b }),
    Echo: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(null, { s: call.request.s }),
    Items: grpcItems,
  });
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync(`${LOOPBACK}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? fail(err) : ok(p))),
  );
  return {
    port,
    connections: () => -1,
    close: () => new Promise<void>((ok) => server.tryShutdown(() => ok())),
  };
}

/** One grpc-js client: one channel, hence one HTTP/2 connection for all calls. */
export class GrpcClient implements BenchClient {
  private constructor(private readonly client: any) {}

  static async open(port: number): Promise<GrpcClient> {
    const Bench = benchService();
    const client = new Bench(`${LOOPBACK}:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    await new Promise<void>((ok, fail) => client.waitForReady(Date.now() + 5000, (err?: Error) => (err ? fail(err) : ok())));
    return new GrpcClient(client);
  }

  add(a: number, b: number): Promise<number> {
    return new Promise((ok, fail) => this.client.Add({ a, b }, (err: Error | null, reply: any) => (err ? fail(err) : ok(reply.result))));
  }

  echo(s: string): Promise<string> {
    return new Promise((ok, fail) => this.client.Echo({ s }, (err: Error | null, reply: any) => (err ? fail(err) : ok(reply.s))));
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
