import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryDiscovery, RegistryService, RpcClient, startRegistry, type CallContext } from '../../src/index';
import { until } from '../helpers/wait';

const ctx = { metadata: {} } as unknown as CallContext;
const entry = (id: string, port: number) => ({ service: 'S', id, host: '127.0.0.1', port, weight: 1, metadata: {}, ttlMs: 60_000 });

test('a registry is incomplete for its warm-up (raised to the longest TTL) and reports ids deregistered meanwhile', () => {
  let now = 1_000;
  const service = new RegistryService({ warmupMs: 5_000, now: () => now });
  service.register(entry('a', 1), ctx);
  service.deregister('S', 'ghost', ctx);
  let snap = service.list('S');
  assert.equal(snap.complete, false);
  assert.deepEqual(snap.removed, ['ghost'], 'a server this registry never saw said it left');
  now += 5_000;
  service.sweep();
  assert.equal(service.list('S').complete, false, 'a 60 s TTL registered meanwhile extends the warm-up');
  now += 55_000;
  service.sweep();
  snap = service.list('S');
  assert.equal(snap.complete, true);
  assert.equal(snap.removed, undefined);
});

test('discovery merges an incomplete list after a registry restart: old entries stay until confirmed, deregistered or the warm-up ends', async () => {
  let { registry, port } = await startRegistry(0, '127.0.0.1', { warmupMs: 0 });
  const writer = (): RpcClient => new RpcClient({ host: '127.0.0.1', port, connectTimeoutMs: 500 });
  let w = writer();
  const discovery = new RegistryDiscovery({ registry: `127.0.0.1:${port}`, service: 'S', maxRetryMs: 100 });
  try {
    for (const [id, p] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      await w.call('MyRpcRegistry', 'register', [entry(id, p)]);
    await until(() => discovery.endpoints().length === 3, 3000, 'three entries');
    await w.close();
    await registry.close(0);
    ({ registry, port } = await startRegistry(port, '127.0.0.1', { warmupMs: 800 }));
    w = writer();
    await w.call('MyRpcRegistry', 'register', [{ ...entry('a', 1), ttlMs: 500 }]);
    await until(() => !discovery.stale && discovery.carriedOver.length === 2, 3000, 'the new registry seen');
    assert.deepEqual(
      discovery.endpoints().map((e) => e.id),
      ['a', 'b', 'c'],
      'b and c kept: the new registry is warming up',
    );
    await w.call('MyRpcRegistry', 'deregister', ['S', 'b']);
    await until(() => discovery.endpoints().length === 2, 3000, 'b deregistered');
    assert.deepEqual(
      discovery.endpoints().map((e) => e.id),
      ['a', 'c'],
    );
    await until(() => discovery.endpoints().length === 0, 5000, 'warm-up over: c never came back and a expired');
  } finally {
    await w.close();
    await discovery.close();
    await registry.close(0);
  }
});
