import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryRegistrar, RegistryServer, RpcClient, RpcCode, RpcError, startRegistry } from '../../src/index';

const entry = (id: string, extra: Record<string, unknown> = {}) => ({
  service: 'S',
  id,
  host: '127.0.0.1',
  port: 4000,
  weight: 1,
  metadata: {},
  ttlMs: 5000,
  ...extra,
});
const isCode = (code: RpcCode) => (e: unknown) => RpcError.is(e) && e.code === code;

test("a stranger's deregister and re-register of a live id are refused while the owner's renewals go on", async () => {
  const { registry, port } = await startRegistry(0, '127.0.0.1', { warmupMs: 0 });
  const owner = new RegistryRegistrar({ registry: `127.0.0.1:${port}`, ttlMs: 600 });
  const stranger = new RpcClient({ host: '127.0.0.1', port });
  try {
    await owner.register({ service: 'S', id: 'a', host: '127.0.0.1', port: 4000 });
    await assert.rejects(stranger.call('MyRpcRegistry', 'deregister', ['S', 'a']), isCode(RpcCode.PERMISSION_DENIED));
    await assert.rejects(
      stranger.call('MyRpcRegistry', 'deregister', ['S', 'a'], { metadata: { 'myrpc-lease-token': 'guess' } }),
      isCode(RpcCode.PERMISSION_DENIED),
    );
    await assert.rejects(stranger.call('MyRpcRegistry', 'register', [entry('a', { host: '10.6.6.6' })]), isCode(RpcCode.PERMISSION_DENIED));
    const renewalsBefore = owner.failedRenewals;
    await new Promise((r) => setTimeout(r, 700)); // past the TTL: only renewals keep it
    assert.equal(owner.failedRenewals, renewalsBefore, 'the owner renews as before');
    const [kept] = registry.service.list('S').instances;
    assert.equal(kept.host, '127.0.0.1', 'the entry was not replaced');
    await owner.deregister();
    assert.deepEqual(registry.service.list('S').instances, [], "the owner's deregistration works");
  } finally {
    await stranger.close();
    await registry.close(0);
  }
});

test('a registry with a token refuses registrations without it (UNAUTHENTICATED) and serves those with it', async () => {
  const { registry, port } = await startRegistry(0, '127.0.0.1', { warmupMs: 0, token: 's3cret' });
  const client = new RpcClient({ host: '127.0.0.1', port });
  try {
    await assert.rejects(client.call('MyRpcRegistry', 'register', [entry('x')]), isCode(RpcCode.UNAUTHENTICATED));
    await assert.rejects(
      client.call('MyRpcRegistry', 'register', [entry('x')], { metadata: { 'myrpc-registry-token': 'wrong' } }),
      isCode(RpcCode.UNAUTHENTICATED),
    );
    const registrar = new RegistryRegistrar({ registry: `127.0.0.1:${port}`, token: 's3cret' });
    await registrar.register({ service: 'S', id: 'x', host: '127.0.0.1', port: 4000 });
    assert.equal(registry.service.list('S').instances.length, 1);
    await registrar.deregister();
    assert.equal(registry.service.list('S').instances.length, 0);
  } finally {
    await client.close();
    await registry.close(0);
  }
});

test('registry limits: metadata size, entries per service and services answer clear errors; the registry goes on serving', async () => {
  const { registry, port } = await startRegistry(0, '127.0.0.1', { warmupMs: 0, maxEntriesPerService: 2, maxServices: 2 });
  const client = new RpcClient({ host: '127.0.0.1', port });
  try {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v']));
    await assert.rejects(
      client.call('MyRpcRegistry', 'register', [entry('m', { metadata: many })]),
      (e: unknown) => isCode(RpcCode.INVALID_ARGUMENT)(e) && /at most 32 labels/.test((e as Error).message),
    );
    await assert.rejects(
      client.call('MyRpcRegistry', 'register', [entry('m', { metadata: { big: 'x'.repeat(300) } })]),
      (e: unknown) => isCode(RpcCode.INVALID_ARGUMENT)(e) && /over 256 characters/.test((e as Error).message),
    );
    await client.call('MyRpcRegistry', 'register', [entry('a')]);
    await client.call('MyRpcRegistry', 'register', [entry('b')]);
    await assert.rejects(
      client.call('MyRpcRegistry', 'register', [entry('c')]),
      (e: unknown) => isCode(RpcCode.RESOURCE_EXHAUSTED)(e) && /2 entries per service/.test((e as Error).message),
    );
    await client.call('MyRpcRegistry', 'register', [{ ...entry('a'), service: 'T' }]);
    await assert.rejects(
      client.call('MyRpcRegistry', 'register', [{ ...entry('a'), service: 'U' }]),
      (e: unknown) => isCode(RpcCode.RESOURCE_EXHAUSTED)(e) && /2 services/.test((e as Error).message),
    );
    assert.deepEqual(await client.call('MyRpcRegistry', 'serviceNames', []), ['S', 'T'], 'still serving');
  } finally {
    await client.close();
    await registry.close(0);
  }
});

test('a registry refuses to listen on a non-loopback address without a token, unless insecure', async () => {
  await assert.rejects(new RegistryServer().listen(0, '0.0.0.0'), /without a token.*--insecure/);
  const insecure = new RegistryServer({ insecure: true });
  const address = await insecure.listen(0, '0.0.0.0');
  assert.ok(address.port > 0);
  await insecure.close(0);
  const tokened = new RegistryServer({ token: 't' });
  await tokened.listen(0, '0.0.0.0');
  await tokened.close(0);
});

test('a restarted server at the same address takes over its old entry once the old owner has been silent half a TTL, with no gap; a different address never does', async () => {
  const { registry, port } = await startRegistry(0, '127.0.0.1', { warmupMs: 0, sweepIntervalMs: 20 });
  const oldProcess = new RpcClient({ host: '127.0.0.1', port });
  const restarted = new RegistryRegistrar({ registry: `127.0.0.1:${port}`, ttlMs: 2000 });
  let gap = false;
  let watch: NodeJS.Timeout | undefined;
  try {
    await oldProcess.call('MyRpcRegistry', 'register', [entry('a', { ttlMs: 2000 })], { metadata: { 'myrpc-lease-token': 'old-process' } });
    watch = setInterval(() => (gap ||= registry.service.list('S').instances.length === 0), 5);
    await assert.rejects(
      oldProcess.call('MyRpcRegistry', 'register', [entry('a', { host: '10.6.6.6', ttlMs: 1000 })]),
      isCode(RpcCode.PERMISSION_DENIED),
    );
    const registered = restarted.register({ service: 'S', id: 'a', host: '127.0.0.1', port: 4000 });
    const registeredMs = Date.now();
    await registered; // refused while the old owner could still be alive, then taken over
    assert.ok(Date.now() - registeredMs < 2000, 'before the old entry expired');
    assert.equal(gap, false, 'the entry never left the list');
    await assert.rejects(
      oldProcess.call('MyRpcRegistry', 'deregister', ['S', 'a'], { metadata: { 'myrpc-lease-token': 'old-process' } }),
      isCode(RpcCode.PERMISSION_DENIED),
      'the old token is void',
    );
    await restarted.deregister();
    assert.deepEqual(registry.service.list('S').instances, []);
  } finally {
    clearInterval(watch);
    await oldProcess.close();
    await registry.close(0);
  }
});
