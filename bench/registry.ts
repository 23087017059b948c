// `node dist/bench/registry.js [--quick]`: the built-in registry holding 10,000 instances of one service.
// The registry runs in its own process (bench/registry-process.ts); this process registers, renews, lists and
// watches over one RpcClient connection, 64 calls in flight.
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LEASE_TOKEN_METADATA, RpcClient, type RegisterAnswer, type Snapshot } from '../src/index';
import { median } from './stats';

const RESULTS_DIR = join(resolve(__dirname, '..', '..'), 'bench', 'results');
export const REGISTRY_INSTANCES = 10_000;
const IN_FLIGHT = 64;
const SERVICE = 'Bench';
const TTL_MS = 600_000;

export interface RegistryFigures {
  instances: number;
  registerPerSec: number;
  renewPerSec: number;
  listP50Ms: number;
  listBytes: number;
  /** From a registration to the moment a watcher waiting on the service has the new list, ms (median). */
  notifyP50Ms: number;
  notifyMaxMs: number;
}

function registration(i: number): Record<string, unknown> {
  return {
    service: SERVICE,
    id: `bench-${i}`,
    host: '127.0.0.1',
    port: 1024 + (i % 60_000),
    weight: 1,
    metadata: { zone: `z${i % 4}` },
    ttlMs: TTL_MS,
  };
}

/** Runs `count` calls, `IN_FLIGHT` at a time; answers calls/s. */
async function pump(count: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return (count * 1000) / (performance.now() - t0);
}

async function notifyLatencies(client: RpcClient, rounds: number, firstId: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const now = (await client.call('MyRpcRegistry', 'list', [SERVICE])) as Snapshot;
    let registeredAt = 0;
    const watched = client
      .call('MyRpcRegistry', 'watch', [SERVICE, now.epoch, now.index, 5000], { timeoutMs: 10_000 })
      .then(() => performance.now() - registeredAt);
    await new Promise((res) => setTimeout(res, 20)); // the watch is parked on the registry
    registeredAt = performance.now();
    await client.call('MyRpcRegistry', 'register', [registration(firstId + r)]);
    latencies.push(await watched);
  }
  return latencies;
}

async function measure(port: number, instances: number, quick: boolean): Promise<RegistryFigures> {
  const client = new RpcClient({ host: '127.0.0.1', port });
  await client.connect();
  try {
    const tokens: string[] = new Array<string>(instances);
    const registerPerSec = await pump(instances, async (i) => {
      tokens[i] = ((await client.call('MyRpcRegistry', 'register', [registration(i)])) as RegisterAnswer).leaseToken;
    });
    const renewPerSec = await pump(instances, (i) =>
      client.call('MyRpcRegistry', 'register', [registration(i)], { metadata: { [LEASE_TOKEN_METADATA]: tokens[i] } }),
    );
    const listMs: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < (quick ? 5 : 20); i++) {
      const t0 = performance.now();
      const snap = (await client.call('MyRpcRegistry', 'list', [SERVICE])) as Snapshot;
      listMs.push(performance.now() - t0);
      if (snap.instances.length < instances) throw new Error(`list answered ${snap.instances.length} instances, expected ${instances}`);
      listBytes = JSON.stringify(snap).length;
    }
    const notify = await notifyLatencies(client, quick ? 5 : 20, instances);
    return {
      instances,
      registerPerSec,
      renewPerSec,
      listP50Ms: median(listMs),
      listBytes,
      notifyP50Ms: median(notify),
      notifyMaxMs: Math.max(...notify),
    };
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const child = fork(join(__dirname, 'registry-process.js'), [String(REGISTRY_INSTANCES * 2)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  process.on('exit', () => child.kill('SIGKILL'));
  try {
    const port = await new Promise<number>((res, rej) => {
      child.once('message', (m: { port: number }) => res(m.port));
      child.once('exit', (code) => rej(new Error(`registry process exited with ${code}`)));
    });
    const f = await measure(port, REGISTRY_INSTANCES, quick);
    console.log(
      `\nRegistry with ${f.instances.toLocaleString('en-US')} instances of one service (one client connection, ${IN_FLIGHT} calls in flight):`,
    );
    console.log(
      `  register ${Math.round(f.registerPerSec).toLocaleString('en-US')}/s, renew ${Math.round(f.renewPerSec).toLocaleString('en-US')}/s`,
    );
    console.log(
      `  list of all ${f.instances.toLocaleString('en-US')}: p50 ${f.listP50Ms.toFixed(1)} ms (${(f.listBytes / 1024).toFixed(0)} KiB as JSON)`,
    );
    console.log(
      `  change notification (register → a parked watch answers with the new list): p50 ${f.notifyP50Ms.toFixed(1)} ms, max ${f.notifyMaxMs.toFixed(1)} ms`,
    );
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'registry.json'), JSON.stringify(f, null, 2) + '\n');
  } finally {
    child.kill('SIGKILL');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
