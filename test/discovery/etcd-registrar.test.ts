import 'reflect-metadata';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { RpcCode, RpcError, type LoadReport } from '../../src/index';
import { EtcdDiscovery, EtcdRegistrar } from '../../src/etcd';
import { EtcdProcess, SKIP_WITHOUT_ETCD, eventually, freePort } from '../helpers/etcd';
import type { ChildReport } from './etcd-child';

const CHILD = join(__dirname, 'etcd-child.js');

describe('EtcdRegistrar against a real etcd', { skip: SKIP_WITHOUT_ETCD }, () => {
  let etcd: EtcdProcess;
  let client: Etcd3;
  before(async () => {
    etcd = await EtcdProcess.start();
    client = await etcd.client();
  });
  after(async () => {
    client?.close();
    await etcd?.dispose();
  });

  test('register writes the documented key and JSON under a lease; deregister deletes it at once', async () => {
    const registrar = new EtcdRegistrar({ hosts: etcd.url, ttlSeconds: 2 });
    await registrar.register({ service: 'Layout', host: '127.0.0.1', port: 4100, weight: 3, metadata: { zone: 'z1' } }, () => ({
      inFlight: 0,
      eventLoopDelayMs: 0,
    }));
    try {
      assert.equal(registrar.etcdKey, '/myrpc/services/Layout/127.0.0.1:4100');
      const res = await client.get(registrar.etcdKey).exec();
      assert.equal(res.kvs.length, 1);
      assert.notEqual(res.kvs[0].lease, '0', 'the key is attached to a lease');
      assert.deepEqual(JSON.parse(res.kvs[0].value.toString()), {
        host: '127.0.0.1',
        port: 4100,
        weight: 3,
        metadata: { zone: 'z1' },
        load: { inFlight: 0, eventLoopDelayMs: 0 },
      });
      assert.deepEqual(registrar.stats, { registrations: 1, leasesLost: 0, loadUpdates: 0, registered: true });
    } finally {
      await registrar.deregister();
    }
    assert.equal(await client.get(registrar.etcdKey).string(), null, 'revoking the lease removed the key without waiting for the TTL');
    assert.equal(registrar.stats.registered, false);
  });

  test('a custom prefix and id; a second register without deregister is refused', async () => {
    const registrar = new EtcdRegistrar({ hosts: etcd.url, prefix: '/tenant-a/', ttlSeconds: 2 });
    await registrar.register({ service: 'Layout', host: '127.0.0.1', port: 4101, id: 'node-7' });
    try {
      assert.equal(registrar.etcdKey, '/tenant-a/services/Layout/node-7');
      assert.ok(await client.get('/tenant-a/services/Layout/node-7').string());
      await assert.rejects(registrar.register({ service: 'Layout', host: '127.0.0.1', port: 4101 }), /already registered/);
    } finally {
      await registrar.deregister();
    }
  });

  test('a given Etcd3 client is used and left open', async () => {
    const registrar = new EtcdRegistrar({ client, ttlSeconds: 2 });
    await registrar.register({ service: 'Shared', host: '127.0.0.1', port: 4102 });
    await registrar.deregister();
    assert.equal(await client.get(registrar.etcdKey).string(), null);
    await client.put('/still-open').value('yes');
    assert.equal(await client.get('/still-open').string(), 'yes', 'the client was not closed by deregister');
  });

  test('load is written again every TTL/3, only when the load-aware weight it gives moved by more than 10 %', async () => {
    let load: LoadReport = { inFlight: 0, eventLoopDelayMs: 0 };
    const registrar = new EtcdRegistrar({ hosts: etcd.url, ttlSeconds: 2 });
    const discovery = new EtcdDiscovery({ hosts: etcd.url, service: 'Loaded', loadAwareWeights: true });
    await registrar.register({ service: 'Loaded', host: '127.0.0.1', port: 4103, weight: 2 }, () => load);
    try {
      await eventually(() => discovery.endpoints().length === 1, 3000, 'the server to be discovered');
      assert.equal(discovery.endpoints()[0].weight, 2);

      load = { inFlight: 32, eventLoopDelayMs: 5 }; // 2 / (1 + 32/32) = 1
      await eventually(() => discovery.endpoints()[0]?.weight === 1, 5000, 'the new load-aware weight');
      assert.equal(registrar.stats.loadUpdates, 1);

      load = { inFlight: 34, eventLoopDelayMs: 9 }; // 2 / (1 + 34/32) = 0.97: 3 % off, and delay under the 10 ms slack
      await new Promise((r) => setTimeout(r, 1600)); // two refresh periods of 667 ms
      assert.equal(registrar.stats.loadUpdates, 1, 'a load change that barely moves the weight causes no write');
      const stored = JSON.parse((await client.get(registrar.etcdKey).string()) as string);
      assert.deepEqual(stored.load, { inFlight: 32, eventLoopDelayMs: 5 });
      assert.equal(discovery.endpoints()[0].weight, 1);
    } finally {
      await registrar.deregister();
      await discovery.close();
    }
  });

  test('the first register rejects with UNAVAILABLE when etcd is unreachable, and holds nothing', async () => {
    const registrar = new EtcdRegistrar({ hosts: `http://127.0.0.1:${await freePort()}`, ttlSeconds: 2, requestTimeoutMs: 1000 });
    const started = Date.now();
    const err = await registrar.register({ service: 'Nowhere', host: '127.0.0.1', port: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(RpcError.is(err), `expected an RpcError, got ${String(err)}`);
    assert.equal(err.code, RpcCode.UNAVAILABLE);
    assert.match(err.message, /etcd at http:\/\/127\.0\.0\.1:\d+: registering \/myrpc\/services\/Nowhere\/127\.0\.0\.1:1 failed/);
    assert.ok(Date.now() - started < 5000, 'it fails within its request deadline');
    await registrar.deregister(); // nothing to do, and it does not throw
  });

  test('a process that registers, discovers, deregisters and closes exits by itself: no timer or socket left', async () => {
    const child = fork(CHILD, [etcd.url, 'clean', 'clean-exit'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const steps: ChildReport['step'][] = [];
    child.on('message', (m: ChildReport) => steps.push(m.step));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exit;
    clearTimeout(timer);
    assert.deepEqual(steps, ['registered', 'seen', 'closed']);
    assert.equal(code, 0, 'the child exited on its own (it was not killed after 15 s)');
    assert.equal(await client.get('/myrpc/services/KeyValue/clean').string(), null);
  });
});
