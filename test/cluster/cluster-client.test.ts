import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterClient,
  Method,
  RpcCode,
  RpcError,
  RpcServer,
  Service,
  ShardKey,
  StaticEndpointSource,
  type EndpointInit,
  withOptions,
} from '../../src/index';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { startKvServer } from '../../samples/sharded-kv/server';
import { closedPort, startServer } from '../helpers/servers';
import { LATENCY_SAMPLE_EVERY } from '../../src/cluster/endpoint-state';

interface Node {
  name: string;
  server: RpcServer;
  port: number;
}

async function startNodes(n: number): Promise<Node[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => ({ name: `kv${i}`, ...(await startKvServer(`kv${i}`)) })));
}
const endpointsOf = (nodes: Node[]): EndpointInit[] => nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));

describe('cluster client over three real servers', () => {
  let nodes: Node[];
  let cluster: ClusterClient;
  before(async () => {
    nodes = await startNodes(3);
    cluster = new ClusterClient({ endpoints: endpointsOf(nodes), circuitBreaker: { initialOpenMs: 50 } });
  });
  after(async () => {
    await cluster.close();
    await Promise.all(nodes.map((n) => n.server.close({ graceMs: 50 })));
  });

  test('a shard key always reaches the same server, and the keys spread over all three', async () => {
    const kv = cluster.proxy(KeyValueContract);
    const homes = new Map<string, string>();
    for (let i = 0; i < 60; i++) homes.set(`k${i}`, (await kv.put(`k${i}`, `v${i}`)).server);
    for (let i = 0; i < 60; i++) {
      const got = await kv.get(`k${i}`);
      assert.equal(got.value, `v${i}`, 'the value is on the server the key routes to');
      assert.equal(got.server, homes.get(`k${i}`));
    }
    assert.equal(new Set(homes.values()).size, 3);
  });

  test('a key inside a DTO routes by its property path', async () => {
    const kv = cluster.proxy(KeyValueContract);
    const home = (await kv.put('counter', '0')).server;
    assert.equal(await kv.increment({ key: 'counter', by: 5 }), 5);
    assert.equal((await kv.get('counter')).server, home);
    assert.equal((await kv.get('counter')).value, '5');
  });

  test('a call without a shard key value fails on the client with INVALID_ARGUMENT', async () => {
    const kv = cluster.proxy(KeyValueContract);
    for (const bad of [undefined, null, { id: 1 }, 1.5]) {
      await assert.rejects(
        kv.get(bad as unknown as string),
        (e: unknown) => RpcError.is(e) && e.code === RpcCode.INVALID_ARGUMENT && /shard key args\[0\]/.test(e.message),
      );
    }
    await assert.rejects(
      kv.increment({ by: 1 } as never),
      (e: unknown) => RpcError.is(e) && e.code === RpcCode.INVALID_ARGUMENT && /args\[0\]\.key/.test(e.message),
    );
  });

  test('a first try refused before it is sent (unencodable arguments, an aborted signal) fails at once, is not failed over, and leaves nothing counted in flight', async () => {
    const kv = cluster.proxy(KeyValueContract);
    const home = (await kv.put('refused', 'v')).server; // connected: the next calls take the direct path
    await assert.rejects(
      kv.put('refused', 10n as unknown as string),
      (e: unknown) =>
        RpcError.is(e) && e.code === RpcCode.INVALID_ARGUMENT && /could not be encoded/.test(e.message) && e.mayHaveRun === false,
    );
    const aborted = AbortSignal.abort();
    await assert.rejects(
      withOptions(kv, { signal: aborted }).get('refused'),
      (e: unknown) => RpcError.is(e) && e.code === RpcCode.CANCELLED && e.mayHaveRun === false,
    );
    assert.deepEqual(
      cluster.stats().map((s) => [s.inFlight, s.breaker]),
      cluster.stats().map(() => [0, 'closed']),
    );
    const after = await kv.get('refused');
    assert.deepEqual([after.value, after.server], ['v', home]);
  });

  test('methods without a shard key go through the balancer (round-robin by default)', async () => {
    const kv = cluster.proxy(KeyValueContract);
    const servers = await Promise.all([kv.stats(), kv.stats(), kv.stats()]);
    assert.deepEqual(servers.map((s) => s.server).sort(), ['kv0', 'kv1', 'kv2']);
  });

  test('broadcast calls every endpoint; the settled form reports each one', async () => {
    const all = await cluster.broadcast(KeyValueContract).stats();
    assert.deepEqual(all.map((r) => r.value.server).sort(), ['kv0', 'kv1', 'kv2']);
    const settled = await cluster.broadcastSettled(KeyValueContract).stats();
    assert.equal(settled.length, 3);
    assert.ok(settled.every((r) => r.ok));
  });
});

@Service('Flaky')
class Flaky {
  calls = 0;
  constructor(
    readonly name: string,
    private readonly failWith?: RpcCode,
  ) {}
  @Method({ idempotent: true }) safe(): string {
    return this.answer();
  }
  @Method() unsafe(): string {
    return this.answer();
  }
  @Method() slow(ms: number): Promise<string> {
    return new Promise((r) => setTimeout(() => r(this.name), ms));
  }
  @Method() keyed(@ShardKey() key: string): string {
    return `${this.name}:${key}`;
  }
  private answer(): string {
    this.calls++;
    if (this.failWith) throw new RpcError(this.failWith, `${this.name} fails`);
    return this.name;
  }
}

async function flakyServer(name: string, failWith?: RpcCode): Promise<{ server: RpcServer; port: number; service: Flaky }> {
  const service = new Flaky(name, failWith);
  const server = new RpcServer().register(service);
  return { server, service, port: (await server.listen(0)).port };
}

describe('when endpoints fail', () => {
  test('failover: a request that never left (connection refused) goes to another endpoint', async () => {
    const good = await flakyServer('good');
    const dead = await closedPort();
    const cluster = new ClusterClient({
      endpoints: [
        { host: '127.0.0.1', port: dead },
        { host: '127.0.0.1', port: good.port },
      ],
      balancer: 'round-robin',
    });
    try {
      const flaky = cluster.proxy(Flaky);
      for (let i = 0; i < 6; i++) assert.equal(await flaky.unsafe(), 'good');
      assert.deepEqual(cluster.healthyEndpoints(), [`127.0.0.1:${good.port}`], 'the refused endpoint left the healthy list');
    } finally {
      await cluster.close();
      await good.server.close({ graceMs: 0 });
    }
  });

  test('failfast never retries', async () => {
    const good = await flakyServer('good');
    const dead = await closedPort();
    const cluster = new ClusterClient({
      endpoints: [
        { host: '127.0.0.1', port: dead },
        { host: '127.0.0.1', port: good.port },
      ],
      failMode: 'failfast',
    });
    try {
      await assert.rejects(
        cluster.proxy(Flaky).unsafe(),
        (e: unknown) => RpcError.is(e) && e.code === RpcCode.UNAVAILABLE && !e.mayHaveRun,
      );
    } finally {
      await cluster.close();
      await good.server.close({ graceMs: 0 });
    }
  });

  test('a call that may have run is retried only when the method is idempotent', async () => {
    const a = await flakyServer('a', RpcCode.UNAVAILABLE);
    const b = await flakyServer('b');
    const cluster = new ClusterClient({
      endpoints: [
        { host: '127.0.0.1', port: a.port },
        { host: '127.0.0.1', port: b.port },
      ],
      balancer: 'round-robin',
      circuitBreaker: { failureThreshold: 100, initialOpenMs: 10 },
    });
    try {
      const flaky = cluster.proxy(Flaky);
      // An UNAVAILABLE answer from a handler comes from a server that ran it: mayHaveRun is true.
      await assert.rejects(flaky.unsafe(), (e: unknown) => RpcError.is(e) && e.code === RpcCode.UNAVAILABLE && e.mayHaveRun);
      assert.equal(a.service.calls, 1);
      assert.equal(b.service.calls, 0, 'not retried: unsafe is not idempotent');
      // The breaker opened on a, so wait for it to half-open before the next call aims at it again.
      await new Promise((r) => setTimeout(r, 30));
      const before = b.service.calls;
      let answers = 0;
      for (let i = 0; i < 4; i++) if ((await flaky.safe()) === 'b') answers++;
      assert.equal(answers, 4, 'idempotent calls fail over to b');
      assert.ok(b.service.calls - before === 4);
    } finally {
      await cluster.close();
      await Promise.all([a.server.close({ graceMs: 0 }), b.server.close({ graceMs: 0 })]);
    }
  });

  test('answers of any code keep the circuit closed: INTERNAL answers do not eject the server', async () => {
    const a = await flakyServer('a', RpcCode.INTERNAL);
    const cluster = new ClusterClient({
      endpoints: [{ host: '127.0.0.1', port: a.port }],
      circuitBreaker: { failureThreshold: 3, initialOpenMs: 40, jitter: 0 },
    });
    try {
      const flaky = cluster.proxy(Flaky);
      for (let i = 0; i < 10; i++) await assert.rejects(flaky.unsafe(), (e: unknown) => RpcError.is(e) && e.code === RpcCode.INTERNAL);
      assert.equal(cluster.stats()[0].breaker, 'closed');
      assert.equal(a.service.calls, 10, 'every call reached the server');
    } finally {
      await cluster.close();
      await a.server.close({ graceMs: 0 });
    }
  });

  test('broadcast: the first error cancels the rest and rejects; settled collects each', async () => {
    const a = await flakyServer('a');
    const b = await flakyServer('b', RpcCode.NOT_FOUND);
    const cluster = new ClusterClient({
      endpoints: [
        { host: '127.0.0.1', port: a.port },
        { host: '127.0.0.1', port: b.port },
      ],
    });
    try {
      await assert.rejects(cluster.broadcast(Flaky).unsafe(), (e: unknown) => RpcError.is(e) && e.code === RpcCode.NOT_FOUND);
      const settled = await cluster.broadcastSettled(Flaky).unsafe();
      const byName = Object.fromEntries(settled.map((r) => [r.endpoint, r]));
      assert.equal(byName[`127.0.0.1:${a.port}`].ok, true);
      const failed = byName[`127.0.0.1:${b.port}`];
      assert.equal(failed.ok, false);
      assert.equal(!failed.ok && failed.error.code, RpcCode.NOT_FOUND);
    } finally {
      await cluster.close();
      await Promise.all([a.server.close({ graceMs: 0 }), b.server.close({ graceMs: 0 })]);
    }
  });

  test('endpoints follow the source: removed ones stop getting calls, added ones start', async () => {
    const a = await flakyServer('a');
    const b = await flakyServer('b');
    const source = new StaticEndpointSource([{ host: '127.0.0.1', port: a.port }]);
    const cluster = new ClusterClient({ endpoints: source });
    try {
      const flaky = cluster.proxy(Flaky);
      assert.equal(await flaky.keyed('x'), 'a:x');
      source.set([{ host: '127.0.0.1', port: b.port }]);
      assert.equal(await flaky.keyed('x'), 'b:x');
      source.set([]);
      await assert.rejects(flaky.keyed('x'), (e: unknown) => RpcError.is(e) && e.code === RpcCode.UNAVAILABLE && !e.mayHaveRun);
    } finally {
      await cluster.close();
      await Promise.all([a.server.close({ graceMs: 0 }), b.server.close({ graceMs: 0 })]);
    }
  });
});

@Service('Paced')
class Paced {
  @Method() after(ms: number): Promise<number> {
    return new Promise((resolve) => setTimeout(() => resolve(ms), ms));
  }
}

test(`an endpoint's latency average takes one call in ${LATENCY_SAMPLE_EVERY}, the first included`, async (t) => {
  const started = await startServer([new Paced()]);
  const cluster = new ClusterClient({ endpoints: [{ host: '127.0.0.1', port: started.port }] });
  t.after(async () => {
    await cluster.close();
    await started.stop();
  });
  const paced = cluster.proxy(Paced);
  await paced.after(200); // call 1: timed
  const first = cluster.stats()[0].latencyMs;
  assert.ok(first >= 190, `the first call is timed: ${first} ms`);
  for (let i = 1; i < LATENCY_SAMPLE_EVERY; i++) await paced.after(0); // calls 2..8: not timed
  assert.equal(cluster.stats()[0].latencyMs, first);
  await paced.after(0); // call 9: timed, and quicker than 200 ms
  const next = cluster.stats()[0].latencyMs;
  assert.ok(next < first, `${next} < ${first}`);
  assert.deepEqual(
    cluster.stats().map((s) => s.inFlight),
    [0],
  );
});

/** The cluster's endpoint states, to open a circuit while a call to it is in flight. */
interface WithStates {
  states: Map<string, { breaker: { eject(ms: number): boolean } }>;
}

// With client metadata the endpoint's calls take the path through a promise; without, the direct one.
for (const [path, client] of [
  ['the direct path', {}],
  ['the promise path', { metadata: { via: 'promise' } }],
] as const) {
  test(`a 'healthy' listener that throws when an answer closes a circuit fails that call, not the connection, and the endpoint's in-flight count stays right (${path})`, async (t) => {
    const a = await startServer([new Paced()]);
    const b = await startServer([new Paced()]);
    const cluster = new ClusterClient({
      endpoints: [
        { host: '127.0.0.1', port: a.port },
        { host: '127.0.0.1', port: b.port },
      ],
      client,
    });
    t.after(async () => {
      await cluster.close();
      await Promise.all([a.stop(), b.stop()]);
    });
    const paced = cluster.proxy(Paced);
    await Promise.all([paced.after(0), paced.after(0), paced.after(0), paced.after(0)]); // both connected
    const slow = paced.after(300); // in flight on one endpoint
    const [busy] = cluster.stats().filter((s) => s.inFlight === 1);
    assert.ok(busy, 'one endpoint has the call in flight');
    const healthy: string[][] = [];
    cluster.on('healthy', (ids) => healthy.push(ids));
    assert.equal((cluster as unknown as WithStates).states.get(busy.id)?.breaker.eject(60_000), true);
    assert.deepEqual(healthy.at(-1)?.includes(busy.id), false, 'the ejected endpoint left the healthy set');
    cluster.on('healthy', () => {
      throw new Error('listener failed');
    });
    // The answer closes the circuit again (any answer proves the endpoint reachable): 'healthy' fires and throws.
    await assert.rejects(slow, /listener failed/);
    assert.equal(healthy.at(-1)?.includes(busy.id), true, 'the endpoint is back in the healthy set');
    cluster.removeAllListeners('healthy');
    assert.deepEqual(await Promise.all([paced.after(0), paced.after(0)]), [0, 0]);
    assert.deepEqual(
      cluster.stats().map((s) => s.inFlight),
      [0, 0],
    );
  });
}
