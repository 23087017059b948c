import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announce, RegistryRegistrar, RpcServer, startRegistry } from '../../src/index';
import { KeyValueService } from '../../samples/sharded-kv/kv-service';

test('announce() refuses a wildcard listen address without advertise, and registers the advertised one', async () => {
  const { registry, port: registryPort } = await startRegistry(0, '127.0.0.1', { warmupMs: 0 });
  const server = new RpcServer().register(new KeyValueService('kv'));
  const { port } = await server.listen(0, '0.0.0.0');
  try {
    const refused = new RegistryRegistrar({ registry: `127.0.0.1:${registryPort}` });
    await assert.rejects(
      announce(server, refused, { service: 'KeyValue' }),
      (e: unknown) => e instanceof RangeError && /wildcard address '0\.0\.0\.0'.*advertise/.test(e.message),
    );
    await assert.rejects(
      announce(server, refused, { service: 'KeyValue', advertise: 'host:99999' }),
      (e: unknown) => e instanceof RangeError && /advertise must be/.test(e.message),
    );
    assert.deepEqual(registry.service.list('KeyValue').instances, [], 'nothing was registered');

    await announce(server, new RegistryRegistrar({ registry: `127.0.0.1:${registryPort}` }), {
      service: 'KeyValue',
      advertise: '127.0.0.1',
    });
    const [entry] = registry.service.list('KeyValue').instances;
    assert.equal(entry.host, '127.0.0.1');
    assert.equal(entry.port, port, 'the port comes from the server when advertise names only a host');
    assert.equal(entry.id, `127.0.0.1:${port}`);
  } finally {
    await server.close({ graceMs: 0 });
    await registry.close(0);
  }
});
