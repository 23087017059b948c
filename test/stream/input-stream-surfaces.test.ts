/** Client and bidi streams beyond one TCP client: a cluster pins them, broadcast and HTTP refuse them. */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, Method, RpcCode, RpcError, RpcServer, Service, ShardKey } from '../../src/index';
import { startServer, type Started } from '../helpers/servers';
import { rejection } from '../helpers/wait';

@Service('Ingest')
class Ingest {
  constructor(readonly name: string) {}

  @Method({ stream: 'client' }) async put(rows: AsyncIterable<number>, @ShardKey() _table: string): Promise<string> {
    let n = 0;
    for await (const _ of rows) n++;
    return `${this.name}:${n}`;
  }

  @Method({ stream: 'bidi' }) async *tag(rows: AsyncIterable<number>, @ShardKey() _table: string): AsyncGenerator<string> {
    for await (const r of rows) yield `${this.name}:${r}`;
  }

  /** Holds the call open until the test closes the server. */
  @Method({ stream: 'client' }) async hold(rows: AsyncIterable<number>): Promise<number> {
    let n = 0;
    for await (const _ of rows) n++;
    return n;
  }

  @Method() add(a: number, b: number): number {
    return a + b;
  }
}

const JSON_TYPE = { 'content-type': 'application/json' };

async function nodes(): Promise<Started[]> {
  return Promise.all(['a', 'b'].map((n) => startServer([new Ingest(n)])));
}

function endless(): AsyncGenerator<number> {
  return (async function* () {
    for (let i = 0; ; i++) {
      await new Promise((r) => setTimeout(r, 2));
      yield i;
    }
  })();
}

describe('client and bidi streams on a cluster', () => {
  test('a client stream and a bidi stream are pinned to the endpoint of their shard key', async () => {
    const started = await nodes();
    const cluster = new ClusterClient({ endpoints: started.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    try {
      const proxy = cluster.proxy(Ingest);
      for (const table of ['t1', 't2', 't3']) {
        const owner = (await proxy.put([1, 2, 3], table)).split(':');
        assert.equal(owner[1], '3');
        const tags: string[] = [];
        for await (const t of proxy.tag([1, 2, 3, 4], table)) tags.push(t);
        assert.equal(tags.length, 4);
        assert.deepEqual(new Set(tags.map((t) => t.split(':')[0])), new Set([owner[0]]), `${table}: one server for both`);
      }
    } finally {
      await cluster.close();
      await Promise.all(started.map((s) => s.stop()));
    }
  });

  test('an endpoint lost mid-upload fails it with UNAVAILABLE, not failed over', async () => {
    const started = await nodes();
    const cluster = new ClusterClient({ endpoints: started.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    try {
      const failed = rejection(cluster.proxy(Ingest).hold(endless()));
      await new Promise((r) => setTimeout(r, 50));
      await Promise.all(started.map((s) => s.server.close({ graceMs: 0 })));
      const err = await failed;
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.match(err.message, /Ingest\.hold: the client stream to 127\.0\.0\.1:\d+ failed .*not failed over/);
    } finally {
      await cluster.close();
      await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
    }
  });

  test('a client stream without its shard key rejects (it does not throw) and sends nothing', async () => {
    const started = await nodes();
    const cluster = new ClusterClient({ endpoints: started.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    try {
      const call = cluster.proxy(Ingest).put([1], undefined as unknown as string);
      assert.ok(call instanceof Promise);
      const err = await rejection(call);
      assert.match(err.message, /shard key/i);
    } finally {
      await cluster.close();
      await Promise.all(started.map((s) => s.stop()));
    }
  });

  test('broadcasting a client or bidi stream method is refused with UNIMPLEMENTED', async () => {
    const started = await nodes();
    const cluster = new ClusterClient({ endpoints: started.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    try {
      const b = cluster.broadcast(Ingest) as unknown as {
        put(r: number[], t: string): Promise<unknown>;
        tag(r: number[], t: string): unknown;
      };
      const err = await rejection(b.put([1], 't'));
      assert.equal(err.code, RpcCode.UNIMPLEMENTED);
      assert.match(err.message, /Ingest\.put is a client stream: streams cannot be broadcast/);
      assert.throws(
        () => b.tag([1], 't'),
        (e: unknown) =>
          e instanceof RpcError && e.code === RpcCode.UNIMPLEMENTED && /bidi stream: streams cannot be broadcast/.test(e.message),
      );
    } finally {
      await cluster.close();
      await Promise.all(started.map((s) => s.stop()));
    }
  });
});

describe('client and bidi streams over HTTP', () => {
  test('POST /rpc/... to a client or bidi stream answers 501 UNIMPLEMENTED, and the server goes on serving', async () => {
    const server = new RpcServer();
    server.register(new Ingest('h'));
    const { port } = await server.listenHttp(0, '127.0.0.1');
    try {
      for (const [method, kind] of [
        ['put', 'client'],
        ['tag', 'bidi'],
      ]) {
        const res = await fetch(`http://127.0.0.1:${port}/rpc/Ingest/${method}`, { method: 'POST', headers: JSON_TYPE, body: '["t"]' });
        assert.equal(res.status, 501);
        const body = (await res.json()) as { code: string; message: string };
        assert.equal(body.code, 'UNIMPLEMENTED');
        assert.equal(body.message, `Ingest.${method} is a ${kind} stream, which HTTP does not carry; call it over TCP`);
      }
      const ok = await fetch(`http://127.0.0.1:${port}/rpc/Ingest/add`, { method: 'POST', headers: JSON_TYPE, body: '[2,3]' });
      assert.equal(await ok.json(), 5);
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});
