// One side of `bench/ab.ts`: a MyRPC server or client loaded from the build folder given (any commit's dist/),
// so that two builds can be compared back to back. Talks to its parent over IPC.
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface Api {
  RpcServer: new (o: object) => {
    register(s: object): void;
    listen(port: number, host: string): Promise<{ port: number }>;
  };
  RpcClient: new (o: object) => Client;
  ClusterClient: new (o: object) => Client;
}

interface Client {
  proxy(c: unknown): Record<string, (...args: unknown[]) => Promise<unknown>>;
  close(): Promise<void>;
}

const [distDir, role, portText, secondsText, inFlightText, workload, kind] = process.argv.slice(2);
const requireBuild = createRequire(__filename);
const load = (path: string): unknown => requireBuild(join(distDir, path)) as unknown;

function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

async function server(api: Api, bench: { BenchService: new () => object }): Promise<void> {
  const s = new api.RpcServer({});
  s.register(new bench.BenchService());
  const { port } = await s.listen(0, '127.0.0.1');
  process.on('message', () => process.send?.({ cpuUs: cpuUs() }));
  process.send?.({ port });
}

async function client(api: Api, bench: { BenchService: unknown }): Promise<void> {
  const port = Number(portText);
  const endpoint = { host: '127.0.0.1', port };
  const c = kind === 'cluster' ? new api.ClusterClient({ endpoints: [endpoint] }) : new api.RpcClient(endpoint);
  const proxy = c.proxy(bench.BenchService);
  const text = 'x'.repeat(1024);
  const call = workload === 'echo-1k' ? (): Promise<unknown> => proxy.echo(text) : (): Promise<unknown> => proxy.add(1234, 5678);
  for (let i = 0; i < 20_000; i++) await call(); // warm-up
  process.send?.({ warm: true });
  let calls = 0;
  let stop = false;
  const cpu0 = cpuUs();
  const t0 = Date.now();
  setTimeout(() => (stop = true), Number(secondsText) * 1000);
  const worker = async (): Promise<void> => {
    while (!stop) {
      await call();
      calls++;
    }
  };
  await Promise.all(Array.from({ length: Number(inFlightText) }, worker));
  process.send?.({ calls, ms: Date.now() - t0, cpuUs: cpuUs() - cpu0 });
  await c.close();
}

const api = load('src/index.js') as Api;
const bench = load('bench/bench-service.js') as { BenchService: new () => object };
(role === 'server' ? server(api, bench) : client(api, bench)).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
