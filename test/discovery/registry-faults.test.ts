import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, RegistryDiscovery, RpcError, withOptions } from '../../src/index';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { until } from '../helpers/wait';
import { forkListening, type Forked } from '../helpers/processes';

const DIST = join(__dirname, '../..');
const TTL_MS = 1000;

const startRegistry = (port = 0): Promise<Forked> => forkListening(join(DIST, 'src/cli/main.js'), ['registry', '--port', String(port)]);
const startKv = (name: string, registry: string): Promise<Forked> =>
  forkListening(join(DIST, 'samples/sharded-kv/server.js'), [name, '0', '--registry', registry, '--ttl', String(TTL_MS)]);

test('built-in registry faults: SIGKILLed server expires; registry killed, calls go on; registry back, state rebuilt', async () => {
  const children: ChildProcess[] = [];
  let registry = await startRegistry();
  children.push(registry.child);
  const address = `127.0.0.1:${registry.port}`;
  const servers = await Promise.all(['kv0', 'kv1', 'kv2'].map((n) => startKv(n, address)));
  children.push(...servers.map((s) => s.child));
  const discovery = new RegistryDiscovery({ registry: address, service: 'KeyValue', maxRetryMs: 300 });
  const cluster = new ClusterClient({ endpoints: discovery, client: { defaultTimeoutMs: 2000 } });
  const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 2000 });
  try {
    await discovery.ready();
    await until(() => discovery.endpoints().length === 3, 5000, 'three servers registered');

    // 1. A server killed with SIGKILL cannot deregister: it disappears once its TTL passes, plus one notification.
    servers[2].child.kill('SIGKILL');
    const killedAt = Date.now();
    await until(() => discovery.endpoints().length === 2, TTL_MS + 3000, 'the killed server expired');
    const goneAfterMs = Date.now() - killedAt;
    assert.ok(goneAfterMs >= TTL_MS / 3, `it was not removed before its entry could expire (${goneAfterMs} ms)`);

    // 2. The registry killed: discovery goes stale, keeps its list, and calls go on.
    registry.child.kill('SIGKILL');
    await until(() => discovery.stale, 5000, 'discovery noticed the registry is gone');
    assert.equal(discovery.endpoints().length, 2, 'the last list is kept');
    let answered = 0;
    const errors: string[] = [];
    for (let i = 0; i < 200; i++) {
      try {
        const entry = await kv.put(`k${i}`, 'v');
        assert.ok(['kv0', 'kv1'].includes(entry.server));
        answered++;
      } catch (err) {
        errors.push(RpcError.is(err) ? `${err.code}: ${err.message}` : String(err));
      }
    }
    assert.deepEqual(errors, []);
    assert.equal(answered, 200);

    // 3. The registry back on its port: renewals rebuild its state within one TTL; discovery catches up.
    registry = await startRegistry(registry.port);
    children.push(registry.child);
    await until(() => !discovery.stale && discovery.endpoints().length === 2, TTL_MS + 5000, 'state rebuilt and discovery fresh again');
    const kv3 = await startKv('kv3', address);
    children.push(kv3.child);
    await until(() => discovery.endpoints().length === 3, 5000, 'new registrations reach clients after the restart');
    const servedBy = new Set<string>();
    for (let i = 0; i < 60; i++) servedBy.add((await kv.get(`k${i}`)).server);
    assert.deepEqual([...servedBy].sort(), ['kv0', 'kv1', 'kv3']);
  } finally {
    await cluster.close();
    await discovery.close();
    for (const c of children) c.kill('SIGKILL');
  }
});
