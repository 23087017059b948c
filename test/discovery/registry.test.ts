import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  announce,
  ClusterClient,
  RegistryDiscovery,
  RegistryRegistrar,
  RegistryServer,
  RpcClient,
  RpcCode,
  RpcError,
  type Endpoint,
} from '../../src/index';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { startKvServer } from '../../samples/sharded-kv/server';
import { until } from '../helpers/wait';

const ids = (list: readonly Endpoint[]): string[] => list.map((e) => e.id).sort();

describe('built-in registry', () => {
  let registry: RegistryServer;
  let address: string;
  before(async () => {
    registry = new RegistryServer({ sweepIntervalMs: 50 });
    address = `127.0.0.1:${(await registry.listen(0)).port}`;
  });
  after(() => registry.close(0));

  test('register, renew, deregister: watchers are told at once (long poll), not at the next poll', async () => {
    const discovery = new RegistryDiscovery({ registry: address, service: 'Svc1', waitMs: 20_000 });
    const seen: string[][] = [];
    discovery.subscribe((list) => seen.push(ids(list)));
    await discovery.ready();
    assert.deepEqual(ids(discovery.endpoints()), []);
    const a = new RegistryRegistrar({ registry: address, ttlMs: 5000 });
    await a.register({ service: 'Svc1', host: '127.0.0.1', port: 1111, metadata: { zone: 'z1', version: '2' } });
    // With a 20 s long poll, only a push-style answer can arrive within the bounded wait.
    await until(() => discovery.endpoints().length === 1, 3000, 'the new server was announced promptly');
    const [e] = discovery.endpoints();
    assert.deepEqual([e.id, e.host, e.port, e.weight, e.metadata], ['127.0.0.1:1111', '127.0.0.1', 1111, 1, { zone: 'z1', version: '2' }]);
    await a.deregister();
    await until(() => discovery.endpoints().length === 0, 3000, 'deregistration was announced promptly');
    assert.deepEqual(seen, [[], ['127.0.0.1:1111'], []]);
    await discovery.close();
  });

  test('an entry that is not renewed expires after its TTL', async () => {
    const discovery = new RegistryDiscovery({ registry: address, service: 'Svc2' });
    await discovery.ready();
    const client = new RpcClient({ port: Number(address.split(':')[1]) });
    await client.call('MyRpcRegistry', 'register', [
      { service: 'Svc2', id: 'x', host: '127.0.0.1', port: 2222, weight: 1, metadata: {}, ttlMs: 300 },
    ]);
    await until(() => discovery.endpoints().length === 1, 5000, 'the entry to be listed');
    await until(() => discovery.endpoints().length === 0, 3000, 'expired');
    await client.close();
    await discovery.close();
  });

  test('a renewing server stays registered well past its TTL', async () => {
    const r = new RegistryRegistrar({ registry: address, ttlMs: 300 });
    await r.register({ service: 'Svc3', host: '127.0.0.1', port: 3333 });
    await new Promise((res) => setTimeout(res, 1000));
    const client = new RpcClient({ port: Number(address.split(':')[1]) });
    const snapshot = (await client.call('MyRpcRegistry', 'list', ['Svc3'])) as { instances: unknown[] };
    assert.equal(snapshot.instances.length, 1);
    assert.equal(r.failedRenewals, 0);
    await r.deregister();
    await client.close();
  });

  test('a bad registration gets INVALID_ARGUMENT with details', async () => {
    const client = new RpcClient({ port: Number(address.split(':')[1]) });
    await assert.rejects(
      client.call('MyRpcRegistry', 'register', [{ service: '', id: 'x', host: 'h', port: 70000, weight: 1, metadata: {}, ttlMs: 10 }]),
      (e: unknown) =>
        RpcError.is(e) &&
        e.code === RpcCode.INVALID_ARGUMENT &&
        ['args[0].service', 'args[0].port', 'args[0].ttlMs'].every((p) => e.details.some((d) => d.path === p)),
    );
    await client.close();
  });

  test('announce(): a server registers with its load, and deregisters first thing on close', async () => {
    const { server, port } = await startKvServer('announced');
    await announce(server, new RegistryRegistrar({ registry: address, ttlMs: 5000 }), {
      service: 'KV-announce',
      weight: 2,
      metadata: { version: '1' },
    });
    const discovery = new RegistryDiscovery({ registry: address, service: 'KV-announce', loadAwareWeights: true });
    await discovery.ready();
    assert.deepEqual(ids(discovery.endpoints()), [`127.0.0.1:${port}`]);
    assert.equal(discovery.endpoints()[0].weight, 2, 'an idle server keeps its weight');
    const cluster = new ClusterClient({ endpoints: discovery });
    assert.equal((await cluster.proxy(KeyValueContract).put('a', 'b')).server, 'announced');
    await server.close({ graceMs: 100 });
    await until(() => discovery.endpoints().length === 0, 3000, 'deregistered on close');
    await cluster.close();
    await discovery.close();
  });

  test('load-aware weights: a busy server is announced with a smaller weight', async () => {
    const r = new RegistryRegistrar({ registry: address, ttlMs: 600, renewIntervalMs: 50 });
    let inFlight = 0;
    await r.register({ service: 'Busy', host: '127.0.0.1', port: 4444, weight: 1 }, () => ({ inFlight, eventLoopDelayMs: 0 }));
    const aware = new RegistryDiscovery({ registry: address, service: 'Busy', loadAwareWeights: true });
    const plain = new RegistryDiscovery({ registry: address, service: 'Busy' });
    await Promise.all([aware.ready(), plain.ready()]);
    assert.equal(aware.endpoints()[0].weight, 1);
    inFlight = 32;
    await until(() => aware.endpoints()[0]?.weight === 0.5, 3000, "the busy server's weight to halve");
    assert.equal(plain.endpoints()[0].weight, 1, 'without the option, weights are as registered');
    await r.deregister();
    await Promise.all([aware.close(), plain.close()]);
  });

  test('load-aware weights steer the weighted balancer: a server reporting load gets its smaller share', async () => {
    const idle = await startKvServer('idle');
    const busy = await startKvServer('busy');
    const registrars = [
      new RegistryRegistrar({ registry: address, ttlMs: 5000 }),
      new RegistryRegistrar({ registry: address, ttlMs: 5000 }),
    ];
    await registrars[0].register({ service: 'Steered', host: '127.0.0.1', port: idle.port }, () => ({ inFlight: 0, eventLoopDelayMs: 0 }));
    await registrars[1].register({ service: 'Steered', host: '127.0.0.1', port: busy.port }, () => ({ inFlight: 32, eventLoopDelayMs: 0 }));
    const discovery = new RegistryDiscovery({ registry: address, service: 'Steered', loadAwareWeights: true });
    const cluster = new ClusterClient({ endpoints: discovery, balancer: 'weighted-round-robin' });
    try {
      await discovery.ready();
      await until(() => discovery.endpoints().length === 2, 5000, 'both servers to be listed');
      const kv = cluster.proxy(KeyValueContract);
      const counts: Record<string, number> = {};
      for (let i = 0; i < 30; i++) {
        const { server } = await kv.stats();
        counts[server] = (counts[server] ?? 0) + 1;
      }
      assert.deepEqual(counts, { idle: 20, busy: 10 }, 'weights 1 and 0.5: smooth weighted round-robin gives exactly 2:1');
    } finally {
      await cluster.close();
      await discovery.close();
      await Promise.all(registrars.map((r) => r.deregister()));
      await Promise.all([idle.server.close({ graceMs: 0 }), busy.server.close({ graceMs: 0 })]);
    }
  });
});
