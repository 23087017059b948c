import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEndpoint, MAX_ENDPOINT_WEIGHT, RpcClient, RpcCode, RpcError, startRegistry } from '../../src/index';
import { decodeEtcdInstance } from '../../src/discovery/etcd-key-layout';

test('absurd weights: the registry refuses them with INVALID_ARGUMENT and goes on serving; the client refuses or caps them', async () => {
  const { registry, port } = await startRegistry(0, '127.0.0.1', { warmupMs: 0 });
  const client = new RpcClient({ host: '127.0.0.1', port });
  try {
    const entry = { service: 'S', id: 'a', host: '127.0.0.1', port: 1, metadata: {}, ttlMs: 1000 };
    await assert.rejects(
      client.call('MyRpcRegistry', 'register', [{ ...entry, weight: 3000 }]),
      (e: unknown) => RpcError.is(e) && e.code === RpcCode.INVALID_ARGUMENT && /weight/.test(JSON.stringify(e.details)),
    );
    await client.call('MyRpcRegistry', 'register', [{ ...entry, weight: MAX_ENDPOINT_WEIGHT }]);
    assert.equal(registry.service.list('S').instances[0].weight, MAX_ENDPOINT_WEIGHT, 'the next registration is served');
  } finally {
    await client.close();
    await registry.close(0);
  }
  assert.throws(
    () => makeEndpoint({ host: 'h', port: 1, weight: 3000 }),
    (e: unknown) => e instanceof RangeError && /weight must be a number > 0 and <= 1000/.test(e.message),
  );
  assert.equal(
    decodeEtcdInstance(JSON.stringify({ host: 'h', port: 1, weight: 1e9 }))?.weight,
    MAX_ENDPOINT_WEIGHT,
    'etcd values are capped, not dropped',
  );
});
