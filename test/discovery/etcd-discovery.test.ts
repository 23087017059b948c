import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { ClusterClient, RpcError, withOptions, type Endpoint, type RpcServer } from '../../src/index';
import { EtcdDiscovery, EtcdRegistrar } from '../../src/etcd';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { startKvServer } from '../../samples/sharded-kv/server';
import { EtcdProcess, SKIP_WITHOUT_ETCD, eventually, freePort } from '../helpers/etcd';
import type { ChildReport } from './etcd-child';

const CHILD = join(__dirname, 'etcd-child.js');
const TTL_SECONDS = 2;
const GRACE_MS = 500;
const KEYS = Array.from({ length: 40 }, (_, i) => `key-${i}`);

interface Kv {
  name: string;
  server: RpcServer;
  registrar: EtcdRegistrar;
}

async function startRegistered(etcd: EtcdProcess, name: string, service: string): Promise<Kv> {
  const { server, port } = await startKvServer(name, 0);
  const registrar = new EtcdRegistrar({ hosts: etcd.url, ttlSeconds: TTL_SECONDS });
  await registrar.register({ service, host: '127.0.0.1', port, id: name });
  return { name, server, registrar };
}

async function stopAll(kvs: Kv[]): Promise<void> {
  await Promise.all(
    kvs.map(async (k) => {
      await k.registrar.deregister();
      await k.server.close({ graceMs: 50 });
    }),
  );
}

const ids = (list: readonly Endpoint[]): string[] => list.map((e) => e.id).sort();

function cluster(discovery: EtcdDiscovery): ClusterClient {
  return new ClusterClient({
    endpoints: discovery,
    circuitBreaker: { initialOpenMs: 100, maxOpenMs: 400 },
    client: { defaultTimeoutMs: 2000, connectTimeoutMs: 1000 },
  });
}

/** Which servers answer for `KEYS` now. */
async function servers(c: ClusterClient): Promise<Set<string>> {
  const kv = withOptions(c.proxy(KeyValueContract), { timeoutMs: 2000 });
  const seen = new Set<string>();
  for (const k of KEYS) seen.add((await kv.get(k)).server);
  return seen;
}

function forkRegistered(etcd: EtcdProcess, name: string): Promise<{ child: ChildProcess; report: ChildReport }> {
  const child = fork(CHILD, [etcd.url, name, 'serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`${name} did not register`))), 10_000);
    child.once('message', (report: ChildReport) => (clearTimeout(timer), resolve({ child, report })));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${name} exited with ${code}`))));
  });
}

describe('EtcdDiscovery feeding a ClusterClient, against a real etcd', { skip: SKIP_WITHOUT_ETCD }, () => {
  let etcd: EtcdProcess;
  before(async () => {
    etcd = await EtcdProcess.start();
  });
  after(async () => {
    await etcd?.dispose();
  });

  test('registered servers are called through discovery; a deregistered one disappears promptly', async () => {
    const kvs = [await startRegistered(etcd, 'kv-a', 'KvOne'), await startRegistered(etcd, 'kv-b', 'KvOne')];
    const discovery = new EtcdDiscovery({ hosts: etcd.url, service: 'KvOne' });
    const client = cluster(discovery);
    const notified: string[][] = [];
    let inSubscribe = true;
    discovery.subscribe((list) => {
      assert.equal(inSubscribe, false, 'never called synchronously from subscribe');
      notified.push(ids(list));
    });
    inSubscribe = false;
    try {
      await discovery.ready(5000);
      assert.deepEqual(ids(discovery.endpoints()), ['kv-a', 'kv-b']);
      assert.equal(discovery.endpoints()[0].port, kvs[0].server.address()?.port);
      assert.deepEqual(await servers(client), new Set(['kv-a', 'kv-b']), 'calls reach both servers');

      await kvs[1].registrar.deregister();
      const waitedMs = await eventually(() => ids(discovery.endpoints()).join() === 'kv-a', 3000, 'kv-b to leave the list');
      console.log(`# deregistered server left the list after ${waitedMs} ms`);
      assert.deepEqual(notified.at(-1), ['kv-a']);
      assert.deepEqual(await servers(client), new Set(['kv-a']), 'every key now goes to kv-a');
      assert.equal(discovery.stale, false);
    } finally {
      await client.close();
      await discovery.close();
      await stopAll(kvs);
    }
  });

  test('ready resolves with an empty list for a service nobody registered; it fills when one does', async () => {
    const discovery = new EtcdDiscovery({ hosts: etcd.url, service: 'Empty' });
    const kvs: Kv[] = [];
    try {
      await discovery.ready(5000);
      assert.deepEqual(discovery.endpoints(), []);
      kvs.push(await startRegistered(etcd, 'late', 'Empty'));
      await eventually(() => discovery.endpoints().length === 1, 3000, 'the late server');
    } finally {
      await discovery.close();
      await stopAll(kvs);
    }
  });

  test('a given Etcd3 client is shared and left open; load-aware weights come from the stored load', async () => {
    const shared: Etcd3 = await etcd.client();
    const discovery = new EtcdDiscovery({ client: shared, service: 'Weights', loadAwareWeights: true });
    const plain = new EtcdDiscovery({ client: shared, service: 'Weights' });
    try {
      await shared
        .put('/myrpc/services/Weights/w1')
        .value(
          JSON.stringify({ host: '127.0.0.1', port: 4200, weight: 4, metadata: { v: '2' }, load: { inFlight: 32, eventLoopDelayMs: 60 } }),
        );
      await shared.put('/myrpc/services/Weights/junk').value('not an instance');
      await eventually(() => discovery.endpoints().length === 1 && plain.endpoints().length === 1, 3000, 'w1');
      // 4 / (1 + 32/32 + (60 - 10)/50) = 4/3, to 3 significant digits
      assert.deepEqual({ ...discovery.endpoints()[0] }, { id: 'w1', host: '127.0.0.1', port: 4200, weight: 1.33, metadata: { v: '2' } });
      assert.equal(plain.endpoints()[0].weight, 4);
    } finally {
      await discovery.close();
      await plain.close();
    }
    assert.equal((await shared.get('/myrpc/services/Weights/w1').string()) !== null, true, 'the shared client still works');
    await shared.delete().prefix('/myrpc/services/Weights/');
    shared.close();
  });

  test('a key that vanishes is kept for the removal grace and the removal is cancelled when it returns; a draining mark removes at once', async () => {
    const writer = await etcd.client();
    const discovery = new EtcdDiscovery({ hosts: etcd.url, service: 'Grace', removalGraceMs: 300 });
    const key = '/myrpc/services/Grace/g1';
    const value = JSON.stringify({ host: '127.0.0.1', port: 4001 });
    try {
      await writer.put(key).value(value);
      await discovery.ready(5000);
      await eventually(() => discovery.endpoints().length === 1, 3000, 'g1 discovered');
      await writer.delete().key(key);
      await eventually(() => discovery.pendingRemovals.includes('g1'), 3000, 'the delete seen');
      assert.deepEqual(ids(discovery.endpoints()), ['g1'], 'kept during the grace');
      await writer.put(key).value(value);
      await eventually(() => discovery.pendingRemovals.length === 0, 3000, 'the removal cancelled');
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(ids(discovery.endpoints()), ['g1'], 'still there after the grace: the key came back');
      await writer.delete().key(key);
      const goneMs = await eventually(() => discovery.endpoints().length === 0, 3000, 'removed after the grace');
      assert.ok(goneMs >= 250, `not before the grace (${goneMs} ms)`);
      await writer.put(key).value(value);
      await eventually(() => discovery.endpoints().length === 1, 3000, 'g1 back');
      await writer.put(key).value(JSON.stringify({ host: '127.0.0.1', port: 4001, draining: true }));
      await eventually(
        () => discovery.endpoints().length === 0 && discovery.pendingRemovals.length === 0,
        3000,
        'a draining mark removes at once',
      );
    } finally {
      await writer.delete().key(key);
      writer.close();
      await discovery.close();
    }
  });

  test(`a server killed with SIGKILL leaves the list within its TTL (${TTL_SECONDS} s) plus the removal grace (${GRACE_MS} ms)`, async () => {
    const discovery = new EtcdDiscovery({ hosts: etcd.url, service: 'KeyValue', removalGraceMs: GRACE_MS });
    const client = cluster(discovery);
    const { child, report } = await forkRegistered(etcd, 'doomed');
    try {
      await eventually(() => discovery.endpoints().some((e) => e.id === 'doomed'), 3000, 'the child to be discovered');
      assert.deepEqual(await servers(client), new Set(['doomed']), 'calls reach the child process');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const waitedMs = await eventually(
        () => !discovery.endpoints().some((e) => e.id === 'doomed'),
        TTL_SECONDS * 1000 + GRACE_MS + 5000,
        'the killed server to leave the list',
      );
      console.log(`# killed server left the list ${waitedMs} ms after it died (TTL ${TTL_SECONDS * 1000} ms, grace ${GRACE_MS} ms)`);
      assert.ok(waitedMs >= GRACE_MS, 'not before the grace had passed');
      const checker = await etcd.client();
      try {
        assert.equal(await checker.get(report.key).string(), null, 'etcd removed the key with the lease');
      } finally {
        checker.close();
      }
    } finally {
      child.kill('SIGKILL');
      await client.close();
      await discovery.close();
    }
  });
});

describe('etcd killed and restarted under a live cluster', { skip: SKIP_WITHOUT_ETCD }, () => {
  let etcd: EtcdProcess;
  before(async () => {
    etcd = await EtcdProcess.start();
  });
  after(async () => {
    await etcd?.dispose();
  });

  test('discovery goes stale and keeps serving; registrars and discovery recover when etcd returns', async () => {
    const kvs = [await startRegistered(etcd, 'kv-1', 'Outage'), await startRegistered(etcd, 'kv-2', 'Outage')];
    const discovery = new EtcdDiscovery({ hosts: etcd.url, service: 'Outage' });
    const events: string[] = [];
    discovery.on('stale', (err) => events.push(`stale:${err.code}`));
    discovery.on('fresh', () => events.push('fresh'));
    const client = cluster(discovery);
    const probe = await etcd.client();
    let late: Kv | undefined;
    try {
      await discovery.ready(5000);
      assert.deepEqual(await servers(client), new Set(['kv-1', 'kv-2']));
      const leaseOf = async (kv: Kv): Promise<string> => (await probe.get(kv.registrar.etcdKey).exec()).kvs[0]?.lease ?? 'none';
      const oldLeases = await Promise.all(kvs.map(leaseOf));
      probe.close();

      // 3. etcd dies: the list goes stale but stays, and calls go on (the servers are up); none hangs.
      await etcd.stop('SIGKILL');
      await eventually(() => discovery.stale, 5000, 'discovery to notice etcd is gone');
      assert.deepEqual(ids(discovery.endpoints()), ['kv-1', 'kv-2'], 'the last list is kept');
      await callUnderLoad(client, 1500);
      // Past twice the TTL without etcd, each registrar's lease is lost (etcd3 gives up on it).
      await eventually(
        () => kvs.every((k) => k.registrar.stats.leasesLost >= 1),
        4 * TTL_SECONDS * 1000,
        'the registrars to lose their leases',
      );
      assert.deepEqual(ids(discovery.endpoints()), ['kv-1', 'kv-2'], 'still the last list');
      assert.deepEqual(await servers(client), new Set(['kv-1', 'kv-2']), 'and both servers still serve through it');

      // 4. etcd returns on the same ports and data: a change made now is caught up with too.
      const readsBefore = discovery.reads;
      await etcd.restart();
      late = await startRegistered(etcd, 'kv-3', 'Outage');
      const recoveredMs = await eventually(
        () => !discovery.stale && ids(discovery.endpoints()).join() === 'kv-1,kv-2,kv-3' && kvs.every((k) => k.registrar.stats.registered),
        20_000,
        'discovery and registrars to recover',
      );
      console.log(`# recovered ${recoveredMs} ms after etcd was back`);
      assert.ok(discovery.reads > readsBefore, 'discovery re-read the whole list (catch-up)');
      assert.deepEqual(events.slice(0, 2), ['stale:UNAVAILABLE', 'fresh']);
      for (const k of kvs) assert.equal(k.registrar.stats.registrations, 2, `${k.name} registered again under a new lease`);

      // The old leases expire (etcd restored them with a fresh TTL); the keys, now under new leases, stay.
      const checker = await etcd.client();
      try {
        await eventually(
          async () => {
            const ttls = await Promise.all(oldLeases.map((id) => checker.leaseClient.leaseTimeToLive({ ID: id })));
            return ttls.every((t) => Number(t.TTL) < 0);
          },
          10_000,
          'the old leases to expire',
        );
        const newLeases = await Promise.all(kvs.map(async (k) => (await checker.get(k.registrar.etcdKey).exec()).kvs[0]?.lease ?? 'none'));
        for (let i = 0; i < kvs.length; i++) assert.notEqual(newLeases[i], oldLeases[i], `${kvs[i].name}'s key is under a new lease`);
        assert.ok(
          newLeases.every((l) => l !== 'none'),
          'both keys are in etcd after their old leases expired',
        );
      } finally {
        checker.close();
      }
      assert.deepEqual(ids(discovery.endpoints()), ['kv-1', 'kv-2', 'kv-3']);
      assert.deepEqual(await servers(client), new Set(['kv-1', 'kv-2', 'kv-3']));
    } finally {
      await client.close();
      await discovery.close();
      await stopAll(late ? [...kvs, late] : kvs);
    }
  });
});

/** 8 concurrent callers for `ms`; every call must succeed (the servers are up) and settle (none hangs). */
async function callUnderLoad(client: ClusterClient, ms: number): Promise<void> {
  const kv = withOptions(client.proxy(KeyValueContract), { timeoutMs: 2000 });
  const stopAt = Date.now() + ms;
  let started = 0;
  let settled = 0;
  const failures: string[] = [];
  const worker = async (w: number): Promise<void> => {
    for (let i = w; Date.now() < stopAt; i += 8) {
      started++;
      try {
        await kv.get(KEYS[i % KEYS.length]);
      } catch (err) {
        failures.push(RpcError.is(err) ? `${err.code}: ${err.message}` : String(err));
      } finally {
        settled++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  assert.equal(settled, started, 'every call settled');
  assert.ok(started > 50, `the load ran (${started} calls)`);
  assert.deepEqual(failures, [], 'no call failed while etcd was down');
}

describe('EtcdDiscovery without an etcd to talk to', () => {
  test('ready rejects with UNAVAILABLE after its timeout, stale turns true, and close still returns at once', async () => {
    const discovery = new EtcdDiscovery({ hosts: `http://127.0.0.1:${await freePort()}`, service: 'Nowhere', requestTimeoutMs: 500 });
    const stale = new Promise<RpcError>((resolve) => discovery.once('stale', resolve));
    try {
      const err = await discovery.ready(300).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(RpcError.is(err), `expected an RpcError, got ${String(err)}`);
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /no endpoint list from etcd at http:\/\/127\.0\.0\.1:\d+ for 'Nowhere' within 300 ms/);
      assert.equal((await stale).code, 'UNAVAILABLE');
      assert.equal(discovery.stale, true);
      assert.deepEqual(discovery.endpoints(), []);
    } finally {
      const started = Date.now();
      await discovery.close();
      assert.ok(Date.now() - started < 2000, 'close does not wait for a retry');
    }
  });

  test('options without hosts or client are refused at once', () => {
    assert.throws(() => new EtcdDiscovery({ service: 'x' }), /give `hosts`/);
    assert.throws(() => new EtcdRegistrar({}), /give `hosts`/);
  });
});
