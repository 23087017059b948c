import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, RegistryDiscovery, RpcClient, RpcError, withOptions, type Snapshot } from '../../src/index';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { until } from '../helpers/wait';
import { forkListening, type Forked } from '../helpers/processes';

const DIST = join(__dirname, '../..');
const TTL_MS = 2000;
const RESTARTS = 3;
const CALLERS = 8;

const startRegistry = (port = 0): Promise<Forked> => forkListening(join(DIST, 'src/cli/main.js'), ['registry', '--port', String(port)]);
const startKv = (name: string, registry: string): Promise<Forked> =>
  forkListening(join(DIST, 'samples/sharded-kv/server.js'), [name, '0', '--registry', registry, '--ttl', String(TTL_MS)]);

async function registeredIds(port: number): Promise<string[]> {
  const client = new RpcClient({ host: '127.0.0.1', port, connectTimeoutMs: 500 });
  try {
    const snapshot = (await client.call('MyRpcRegistry', 'list', ['KeyValue'], { timeoutMs: 1000 })) as Snapshot;
    return snapshot.instances.map((i) => i.id);
  } catch {
    return [];
  } finally {
    await client.close();
  }
}

test('registry SIGKILL + restart under load: zero failed calls, no live server leaves any list, servers re-register at once', async () => {
  const children: ChildProcess[] = [];
  let registry = await startRegistry();
  children.push(registry.child);
  const address = `127.0.0.1:${registry.port}`;
  const servers = await Promise.all(['kv0', 'kv1', 'kv2'].map((n) => startKv(n, address)));
  children.push(...servers.map((s) => s.child));
  const discovery = new RegistryDiscovery({ registry: address, service: 'KeyValue', maxRetryMs: 200 });
  const cluster = new ClusterClient({ endpoints: discovery, client: { defaultTimeoutMs: 1500 } });
  const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 1500 });
  const shortLists: number[] = [];
  const shortHealthy: number[] = [];
  try {
    await discovery.ready();
    await until(() => discovery.endpoints().length === 3, 5000, 'three servers registered');
    discovery.subscribe((list) => list.length < 3 && shortLists.push(list.length));
    cluster.on('healthy', (ids) => ids.length < 3 && shortHealthy.push(ids.length));

    let stop = false;
    let answered = 0;
    const errors: string[] = [];
    const owners = new Map<string, string>();
    let misrouted = 0;
    const caller = async (c: number): Promise<void> => {
      for (let i = 0; !stop && i < 1_000_000; i++) {
        try {
          const key = `key-${c}-${i % 40}`;
          const { server } = await (i % 2 === 0 ? kv.get(key) : kv.put(key, 'v'));
          if (!owners.has(key)) owners.set(key, server);
          else if (owners.get(key) !== server) misrouted++;
          answered++;
        } catch (err) {
          errors.push(RpcError.is(err) ? `${err.code}: ${err.message}` : String(err));
        }
      }
    };
    const load = Promise.all(Array.from({ length: CALLERS }, (_, c) => caller(c)));
    const reRegisteredMs: number[] = [];
    for (let r = 0; r < RESTARTS; r++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      registry.child.kill('SIGKILL');
      await until(() => discovery.stale, 3000, 'discovery noticed the registry is gone');
      registry = await startRegistry(registry.port);
      children.push(registry.child);
      const upAt = Date.now();
      while (Date.now() - upAt < 3000 && (await registeredIds(registry.port)).length < 3)
        await new Promise((resolve) => setTimeout(resolve, 20));
      reRegisteredMs.push(Date.now() - upAt);
      await until(() => !discovery.stale, 3000, 'discovery fresh again');
    }
    stop = true;
    await load;
    console.log(
      `# ${RESTARTS} registry restarts: ${answered} calls answered, ${errors.length} failed; re-registered within ${reRegisteredMs.join(', ')} ms`,
    );
    assert.deepEqual(errors, [], 'no call failed');
    assert.equal(misrouted, 0, 'no shard-keyed call ran on a server that does not own its key');
    assert.ok(answered > 100, 'calls ran throughout');
    assert.deepEqual(shortLists, [], 'the discovered list never lost a live server');
    assert.deepEqual(shortHealthy, [], 'the cluster never stopped offering a live server');
    assert.equal((await registeredIds(registry.port)).length, 3, 'the new registry has every server');
  } finally {
    await cluster.close();
    await discovery.close();
    for (const c of children) c.kill('SIGKILL');
  }
});
