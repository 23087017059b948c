import 'reflect-metadata';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, withOptions } from '../../src/index';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { forkListening, type Forked } from '../helpers/processes';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { closedPort } from '../helpers/servers';

const SERVER = join(__dirname, '../../samples/sharded-kv/server.js');
const DEAD = 150;
const LIVE = 4;
const CALLERS = 8;
const RUN_MS = 2_000;
/** On a loaded machine 2 s may give few calls: go on until this many have settled, within MAX_RUN_MS. */
const MIN_CALLS = 400;
const MAX_RUN_MS = 15_000;

test('150 dead endpoints + 4 live server processes: >= 99 % of calls succeed, dead endpoints leave the call path', async () => {
  const live: Forked[] = await Promise.all(Array.from({ length: LIVE }, (_, i) => forkListening(SERVER, [`kv${i}`, '0'])));
  const dead = await Promise.all(Array.from({ length: DEAD }, () => closedPort()));
  const endpoints = [...dead, ...live.map((p) => p.port)].map((port) => ({ host: '127.0.0.1', port }));
  const cluster = new ClusterClient({ endpoints, client: { connectTimeoutMs: 1000 } });
  const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 1500 });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    let ok = 0;
    let failed = 0;
    const stopAt = Date.now() + RUN_MS;
    const hardStopAt = Date.now() + MAX_RUN_MS;
    const going = (): boolean => (Date.now() < stopAt || ok + failed < MIN_CALLS) && Date.now() < hardStopAt;
    const caller = async (c: number): Promise<void> => {
      for (let i = 0; going() && i < 1_000_000; i++) {
        try {
          await (i % 2 === 0 ? kv.stats() : kv.get(`key-${c}-${i % 50}`));
          ok++;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: CALLERS }, (_, c) => caller(c)));
    delay.disable();
    const share = ok / (ok + failed);
    console.log(
      `# ${DEAD} dead + ${LIVE} live: ${ok} ok, ${failed} failed (${(share * 100).toFixed(2)} %), loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
    );
    assert.ok(ok > 100, 'calls ran');
    assert.ok(share >= 0.99, `${(share * 100).toFixed(2)} % of calls succeeded`);
    assert.equal(cluster.healthyEndpoints().length, LIVE, 'only the live endpoints are offered to balancers');
  } finally {
    delay.disable();
    await cluster.close();
    for (const p of live) p.child.kill('SIGKILL');
  }
});

/** A loopback listener that accepts connections and never answers (a black-holed server). */
async function blackHole(sockets: Socket[]): Promise<Server> {
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test('black-holed endpoints (accept, never answer) cost no failed calls: a slow connect moves on after connectWaitMs', async () => {
  const live: Forked[] = await Promise.all(Array.from({ length: 2 }, (_, i) => forkListening(SERVER, [`kv${i}`, '0'])));
  const sockets: Socket[] = [];
  const holes = await Promise.all(Array.from({ length: 20 }, () => blackHole(sockets)));
  const endpoints = [...holes.map((h) => (h.address() as AddressInfo).port), ...live.map((p) => p.port)].map((port) => ({
    host: '127.0.0.1',
    port,
  }));
  const cluster = new ClusterClient({ endpoints, connectWaitMs: 100 });
  const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 1500 });
  try {
    let ok = 0;
    const errors: string[] = [];
    const stopAt = Date.now() + 1_500;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; Date.now() < stopAt && i < 1_000_000; i++) {
          try {
            await kv.stats();
            ok++;
          } catch (err) {
            errors.push(String(err));
          }
        }
      }),
    );
    assert.deepEqual(errors, []);
    assert.ok(ok > 50, `${ok} calls answered`);
    assert.equal(cluster.healthyEndpoints().length, 2, 'the black holes are out of rotation');
  } finally {
    await cluster.close();
    for (const s of sockets) s.destroy();
    await Promise.all(holes.map((h) => new Promise((r) => h.close(r))));
    for (const p of live) p.child.kill('SIGKILL');
  }
});
