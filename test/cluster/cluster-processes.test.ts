import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, RpcError, withOptions } from '../../src/index';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { forkListening, type Forked } from '../helpers/processes';

const SERVER = join(__dirname, '../../samples/sharded-kv/server.js');
const KEYS = Array.from({ length: 200 }, (_, i) => `key-${i}`);

const startProcess = (name: string, port = 0): Promise<Forked> => forkListening(SERVER, [name, String(port)]);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("three server processes: a killed server's keys, and only those, move; they return when it does", async () => {
  const procs = await Promise.all(['kv0', 'kv1', 'kv2'].map((n) => startProcess(n)));
  const cluster = new ClusterClient({
    endpoints: procs.map((p) => ({ host: '127.0.0.1', port: p.port })),
    circuitBreaker: { initialOpenMs: 100, maxOpenMs: 400 },
    client: { defaultTimeoutMs: 2000, connectTimeoutMs: 1000 },
  });
  const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 2000 });
  let restarted: ChildProcess | undefined;
  try {
    const home = new Map<string, string>();
    for (const k of KEYS) home.set(k, (await kv.put(k, 'v')).server);
    assert.equal(new Set(home.values()).size, 3, 'keys spread over the three servers');
    for (const k of KEYS) assert.equal((await kv.get(k)).server, home.get(k), 'routing is stable');

    // Load from 8 concurrent callers; kill kv1 with SIGKILL in the middle.
    let stop = false;
    let started = 0;
    let settled = 0;
    const failures: string[] = [];
    const worker = async (w: number): Promise<void> => {
      for (let i = w; !stop && i < 100_000; i += 8) {
        started++;
        try {
          await kv.get(KEYS[i % KEYS.length]);
        } catch (err) {
          assert.ok(RpcError.is(err), `a call failed with something other than an RpcError: ${String(err)}`);
          failures.push(`${err.code}: ${err.message}`);
        } finally {
          settled++;
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    await sleep(300);
    procs[1].child.kill('SIGKILL');
    await sleep(700);
    stop = true;
    await load;
    assert.equal(settled, started, 'every call returned or failed; none hangs');
    assert.ok(started > 100, `the load ran (${started} calls)`);
    for (const f of failures) assert.match(f, /^(UNAVAILABLE|DEADLINE_EXCEEDED): /);

    // Only kv1's keys moved.
    for (const k of KEYS) {
      const now = (await kv.get(k)).server;
      if (home.get(k) === 'kv1') assert.notEqual(now, 'kv1');
      else assert.equal(now, home.get(k), `${k} was on ${home.get(k)} and must stay there`);
    }

    // kv1 comes back on its port: once its circuit half-opens and a probe succeeds, its keys return.
    restarted = (await startProcess('kv1', procs[1].port)).child;
    const kv1Keys = KEYS.filter((k) => home.get(k) === 'kv1');
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      await kv.get(kv1Keys[i % kv1Keys.length]).catch(() => undefined);
      back = cluster.healthyEndpoints().length === 3;
      if (!back) await sleep(50);
    }
    assert.ok(back, 'kv1 is healthy again');
    for (const k of KEYS) assert.equal((await kv.get(k)).server, home.get(k), `${k} is home again`);
  } finally {
    await cluster.close();
    for (const p of [...procs.map((x) => x.child), restarted]) p?.kill('SIGKILL');
  }
});
