import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, Method, RpcCode, RpcError, Service, ShardKey } from '../../src/index';
import { startServer, type Started } from '../helpers/servers';

@Service('Tail')
class Tail {
  constructor(readonly name: string) {}
  @Method() async *follow(@ShardKey() _key: string, n: number): AsyncGenerator<string> {
    for (let i = 0; i < n; i++) {
      yield `${this.name}:${i}`;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function nodes(): Promise<Started[]> {
  return Promise.all(['a', 'b'].map((n) => startServer([new Tail(n)])));
}

describe('server streams on a cluster', () => {
  test('a stream is pinned to the endpoint of its shard key: every item comes from one server', async () => {
    const started = await nodes();
    const cluster = new ClusterClient({ endpoints: started.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    try {
      for (const key of ['k1', 'k2', 'k3']) {
        const items: string[] = [];
        for await (const x of cluster.proxy(Tail).follow(key, 5)) items.push(x);
        assert.equal(items.length, 5);
        assert.equal(new Set(items.map((i) => i.split(':')[0])).size, 1, `items of ${key} came from one server: ${items.join(',')}`);
      }
    } finally {
      await cluster.close();
      await Promise.all(started.map((s) => s.stop()));
    }
  });

  test('an endpoint lost mid-stream ends it with UNAVAILABLE naming the items delivered, with no failover', async () => {
    const started = await nodes();
    const cluster = new ClusterClient({ endpoints: started.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    try {
      const items: string[] = [];
      const err = await (async () => {
        for await (const x of cluster.proxy(Tail).follow('key', 1000)) {
          items.push(x);
          if (items.length === 3) {
            const owner = started.find((s) => s.server && x.startsWith(s === started[0] ? 'a' : 'b')) as Started;
            await owner.server.close({ graceMs: 0 });
          }
        }
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof RpcError, `expected an RpcError, got ${String(err)}`);
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.match(err.message, /after \d+ items/);
      assert.match(err.message, /not failed over/);
      assert.equal(new Set(items.map((i) => i.split(':')[0])).size, 1);
    } finally {
      await cluster.close();
      await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
    }
  });

  test('broadcasting a stream method is refused with UNIMPLEMENTED', async () => {
    const started = await nodes();
    const cluster = new ClusterClient({ endpoints: started.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    try {
      assert.throws(
        () => (cluster.broadcast(Tail) as unknown as { follow(k: string, n: number): unknown }).follow('k', 1),
        (e: unknown) => e instanceof RpcError && e.code === RpcCode.UNIMPLEMENTED && /cannot be broadcast/.test(e.message),
      );
    } finally {
      await cluster.close();
      await Promise.all(started.map((s) => s.stop()));
    }
  });
});
