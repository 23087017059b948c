// `node dist/bench/dead-endpoints.js [seconds]`: call success and event-loop delay of a ClusterClient as the
// share of unreachable endpoints grows (4 live sharded-kv server processes; dead ones are closed loopback ports).
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ClusterClient, withOptions } from '../src/index';
import { KeyValueContract } from '../samples/sharded-kv/contract';

const SERVER = join(__dirname, '../samples/sharded-kv/server.js');
const LIVE = 4;
const CALLERS = 8;
const RUN_MS = Math.max(1, Number(process.argv[2] ?? 5)) * 1000;

function startServer(name: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(SERVER, [name, '0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function scenario(dead: number, livePorts: number[]): Promise<string> {
  const deadPorts = await Promise.all(Array.from({ length: dead }, () => closedPort()));
  const cluster = new ClusterClient({
    endpoints: [...deadPorts, ...livePorts].map((port) => ({ host: '127.0.0.1', port })),
    client: { connectTimeoutMs: 1000 },
  });
  const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 1500 });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let ok = 0;
  let failed = 0;
  const stopAt = Date.now() + RUN_MS;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, c) => {
      for (let i = 0; Date.now() < stopAt; i++) {
        try {
          await (i % 2 === 0 ? kv.stats() : kv.get(`key-${c}-${i % 50}`));
          ok++;
        } catch {
          failed++;
        }
      }
    }),
  );
  delay.disable();
  await cluster.close();
  const share = (100 * ok) / Math.max(1, ok + failed);
  return `${String(dead).padStart(4)} dead + ${LIVE} live: ${share.toFixed(2)} % of ${ok + failed} calls succeeded (target 99 %), loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms (target 50 ms)`;
}

async function main(): Promise<void> {
  const live = await Promise.all(Array.from({ length: LIVE }, (_, i) => startServer(`kv${i}`)));
  try {
    console.log(`\nCluster client vs dead endpoints (${CALLERS} callers, ${RUN_MS / 1000} s each):`);
    for (const dead of [0, 50, 150])
      console.log(
        await scenario(
          dead,
          live.map((l) => l.port),
        ),
      );
  } finally {
    for (const l of live) l.child.kill('SIGKILL');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
