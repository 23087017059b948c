import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, Method, RpcCode, RpcError, RpcServer, Service, ShardKey, withOptions, type CallOptions } from '../../src/index';
import { closedPort, mutingRelay } from '../helpers/servers';
import { until } from '../helpers/wait';

/** A server whose `work` answers with a chosen code (a database that is down, a quota) and whose `ping` touches nothing. */
@Service('Health')
class HealthService {
  calls = 0;
  failWith: RpcCode | undefined;
  constructor(readonly name: string) {}
  @Method() work(): string {
    this.calls++;
    if (this.failWith) throw new RpcError(this.failWith, `${this.name}: database unavailable`);
    return this.name;
  }
  @Method({ idempotent: true }) lookup(): string {
    this.calls++;
    if (this.failWith) throw new RpcError(this.failWith, `${this.name}: no such thing`);
    return this.name;
  }
  @Method() ping(): string {
    return this.name;
  }
  @Method() hang(ms: number): Promise<string> {
    return new Promise((r) => setTimeout(() => r(this.name), ms));
  }
  @Method() write(@ShardKey() key: string): string {
    return `${this.name}:${key}`;
  }
  @Method({ idempotent: true }) read(@ShardKey() key: string): string {
    return `${this.name}:${key}`;
  }
}

interface Node {
  server: RpcServer;
  port: number;
  service: HealthService;
}

async function start(name: string, port = 0): Promise<Node> {
  const service = new HealthService(name);
  const server = new RpcServer().register(service);
  return { server, service, port: (await server.listen(port, '127.0.0.1')).port };
}

const ep = (port: number): { host: string; port: number } => ({ host: '127.0.0.1', port });
const within = (api: object, options: CallOptions) => withOptions(api, options) as { hang(ms: number): Promise<string> };
const isCode = (code: RpcCode) => (e: unknown) => RpcError.is(e) && e.code === code;

describe('health counts only transport failures', () => {
  test('a handler answering UNAVAILABLE, INTERNAL or RESOURCE_EXHAUSTED does not eject its server; ping still works', async () => {
    const nodes = await Promise.all([start('a'), start('b'), start('c')]);
    const cluster = new ClusterClient({ endpoints: nodes.map((n) => ep(n.port)), circuitBreaker: { failureThreshold: 2 } });
    try {
      const api = cluster.proxy(HealthService);
      for (const code of [RpcCode.UNAVAILABLE, RpcCode.INTERNAL, RpcCode.RESOURCE_EXHAUSTED]) {
        for (const n of nodes) n.service.failWith = code;
        for (let i = 0; i < 12; i++) await assert.rejects(api.work(), isCode(code));
      }
      assert.deepEqual(
        cluster.stats().map((s) => s.breaker),
        ['closed', 'closed', 'closed'],
      );
      assert.equal(cluster.healthyEndpoints().length, 3);
      for (let i = 0; i < 3; i++) assert.ok(['a', 'b', 'c'].includes(await api.ping()));
    } finally {
      await cluster.close();
      await Promise.all(nodes.map((n) => n.server.close({ graceMs: 0 })));
    }
  });

  test('the retry budget is untouched by NOT_FOUND and INVALID_ARGUMENT answers, so failover still absorbs a server death', async () => {
    const nodes = await Promise.all([start('a'), start('b')]);
    const dead = await closedPort();
    const cluster = new ClusterClient({ endpoints: [...nodes.map((n) => ep(n.port)), ep(dead)] });
    try {
      const api = cluster.proxy(HealthService);
      for (const code of [RpcCode.NOT_FOUND, RpcCode.INVALID_ARGUMENT]) {
        for (const n of nodes) n.service.failWith = code;
        for (let i = 0; i < 30; i++) await assert.rejects(api.lookup(), isCode(code));
      }
      assert.equal(cluster.retryTokens, 10, 'no token spent on answers that are not retryable');
      for (const n of nodes) n.service.failWith = undefined;
      for (let i = 0; i < 30; i++) assert.ok(['a', 'b'].includes(await api.lookup()), 'the refused endpoint is skipped, at no token');
      assert.equal(cluster.retryTokens, 10);
    } finally {
      await cluster.close();
      await Promise.all(nodes.map((n) => n.server.close({ graceMs: 0 })));
    }
  });

  test('a deadline with no answer from a silent connection counts; one whose connection answers others does not', async () => {
    const a = await start('a');
    // Silence made real: the server answers every call (its own deadline answer included), the relay drops it.
    const relay = await mutingRelay(a.port);
    const cluster = new ClusterClient({
      endpoints: [ep(relay.port)],
      circuitBreaker: { failureThreshold: 2, initialOpenMs: 60_000 },
      maxEjectionPercent: 100,
    });
    try {
      const api = cluster.proxy(HealthService);
      const busy = [within(api, { timeoutMs: 100 }).hang(300)];
      await Promise.all([...busy.map((p) => p.catch(() => undefined)), api.ping()]);
      assert.equal(cluster.stats()[0].breaker, 'closed', 'the ping answered during the wait: the connection is not silent');
      relay.muted = true;
      for (let i = 0; i < 2; i++) await assert.rejects(within(api, { timeoutMs: 50 }).hang(400), isCode(RpcCode.DEADLINE_EXCEEDED));
      assert.equal(cluster.stats()[0].breaker, 'open', 'two deadlines with nothing heard in between open it');
    } finally {
      await cluster.close();
      await relay.close();
      await a.server.close({ graceMs: 0 });
    }
  });
});

describe('GOAWAY is no verdict', () => {
  test('an idle GOAWAY (idleTimeoutMs) does not eject a healthy server; the next call reconnects', async () => {
    const service = new HealthService('idle');
    const server = new RpcServer({ idleTimeoutMs: 100 }).register(service);
    const { port } = await server.listen(0, '127.0.0.1');
    let goaways = 0;
    const cluster = new ClusterClient({ endpoints: [ep(port)], circuitBreaker: { initialOpenMs: 60_000 } });
    try {
      const api = cluster.proxy(HealthService);
      assert.equal(await api.ping(), 'idle');
      const state = cluster.stats()[0];
      assert.equal(state.breaker, 'closed');
      (cluster as unknown as { states: Map<string, { client: { on(e: string, f: () => void): void } }> }).states
        .get(state.id)
        ?.client.on('goaway', () => goaways++);
      await until(() => goaways > 0, 3000, 'the idle GOAWAY');
      assert.equal(cluster.stats()[0].breaker, 'closed', 'still in rotation');
      assert.equal(cluster.panic, false);
      assert.equal(await api.ping(), 'idle');
    } finally {
      await cluster.close();
      await server.close({ graceMs: 0 });
    }
  });
});

describe('ejection limits and panic', () => {
  test('outlier detection (opt-in) ejects a server answering INTERNAL, but never more than maxEjectionPercent', async () => {
    const nodes = await Promise.all([start('a'), start('b'), start('c'), start('d')]);
    const cluster = new ClusterClient({
      endpoints: nodes.map((n) => ep(n.port)),
      outlierDetection: { minRequests: 5, failurePercent: 50, baseEjectionMs: 60_000 },
      maxEjectionPercent: 50,
    });
    try {
      const api = cluster.proxy(HealthService);
      for (const n of nodes) n.service.failWith = RpcCode.INTERNAL;
      for (let i = 0; i < 80; i++) await api.work().catch(() => undefined);
      const open = cluster.stats().filter((s) => s.breaker === 'open').length;
      assert.equal(open, 2, 'half of four ejected, the other half kept in rotation');
      assert.equal(cluster.healthyEndpoints().length, 2);
    } finally {
      await cluster.close();
      await Promise.all(nodes.map((n) => n.server.close({ graceMs: 0 })));
    }
  });

  test('panic: when every endpoint is ejected, calls go to all of them rather than fail fast', async () => {
    let a = await start('a');
    const port = a.port;
    const cluster = new ClusterClient({ endpoints: [ep(port)], circuitBreaker: { initialOpenMs: 60_000 } });
    try {
      const api = cluster.proxy(HealthService);
      assert.equal(await api.ping(), 'a');
      await a.server.close({ graceMs: 0 });
      await assert.rejects(api.ping(), isCode(RpcCode.UNAVAILABLE), 'refused: the only endpoint is gone');
      assert.equal(cluster.stats()[0].breaker, 'open', 'the refused connection opened the circuit');
      assert.equal(cluster.panic, true);
      assert.deepEqual(cluster.healthyEndpoints(), [`127.0.0.1:${port}`], 'panic offers every endpoint');
      a = await start('a again', port);
      assert.equal(await api.ping(), 'a again', 'routed despite the open circuit (no 60 s wait)');
      assert.equal(cluster.stats()[0].breaker, 'closed');
      assert.equal(cluster.panic, false);
    } finally {
      await cluster.close();
      await a.server.close({ graceMs: 0 });
    }
  });
});

describe('probes end on every outcome', () => {
  test('an endpoint whose server came back returns by a background probe, even after cancelled calls', async () => {
    let a = await start('a');
    const b = await start('b');
    const port = a.port;
    const cluster = new ClusterClient({ endpoints: [ep(port), ep(b.port)], circuitBreaker: { initialOpenMs: 50, jitter: 0 } });
    try {
      const api = cluster.proxy(HealthService);
      await Promise.all([api.ping(), api.ping()]);
      await a.server.close({ graceMs: 0 });
      for (let i = 0; i < 10 && cluster.healthyEndpoints().length > 1; i++)
        assert.equal(await api.ping(), 'b', 'a refused connection moves on to b');
      assert.equal(cluster.healthyEndpoints().length, 1, 'a ejected');
      for (let i = 0; i < 5; i++) {
        const controller = new AbortController();
        const call = within(api, { signal: controller.signal }).hang(200);
        controller.abort();
        await assert.rejects(call, isCode(RpcCode.CANCELLED));
      }
      a = await start('a', port);
      await until(() => cluster.healthyEndpoints().length === 2, 5000, 'a back in rotation by the probe');
      assert.equal(cluster.stats().find((s) => s.id.endsWith(`:${port}`))?.breaker, 'closed');
    } finally {
      await cluster.close();
      await Promise.all([a.server.close({ graceMs: 0 }), b.server.close({ graceMs: 0 })]);
    }
  });

  test('broadcast forwards an already-aborted signal (nothing is sent) and fails clearly over zero endpoints', async () => {
    const a = await start('a');
    const cluster = new ClusterClient({ endpoints: [ep(a.port)] });
    const empty = new ClusterClient({ endpoints: [] });
    try {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(cluster.broadcast(HealthService, { signal: controller.signal }).work(), isCode(RpcCode.CANCELLED));
      await assert.rejects(cluster.broadcastSettled(HealthService, { signal: controller.signal }).work(), isCode(RpcCode.CANCELLED));
      assert.equal(a.service.calls, 0, 'no call ran');
      await assert.rejects(
        empty.broadcast(HealthService).work(),
        (e: unknown) => isCode(RpcCode.UNAVAILABLE)(e) && /zero endpoints/.test((e as Error).message),
      );
      const late = new AbortController();
      const call = cluster.broadcast(HealthService, { signal: late.signal }).hang(500);
      setTimeout(() => late.abort(), 20);
      await assert.rejects(call, isCode(RpcCode.CANCELLED));
      assert.equal(cluster.stats()[0].breaker, 'closed');
    } finally {
      await Promise.all([cluster.close(), empty.close()]);
      await a.server.close({ graceMs: 0 });
    }
  });
});

describe('shard failover policy', () => {
  test("non-idempotent shard-key calls default to 'fail' (owner or nothing); idempotent ones to 'next'", async () => {
    const a = await start('a');
    const b = await start('b');
    const cluster = new ClusterClient({ endpoints: [ep(a.port), ep(b.port)], circuitBreaker: { initialOpenMs: 60_000 } });
    try {
      const api = cluster.proxy(HealthService);
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      const owners = new Map<string, string>();
      for (const k of keys) owners.set(k, (await api.write(k)).split(':')[0]);
      await a.server.close({ graceMs: 0 });
      const aKey = keys.find((k) => owners.get(k) === 'a') as string;
      const bKey = keys.find((k) => owners.get(k) === 'b') as string;
      assert.equal(await api.read(aKey), `b:${aKey}`, 'an idempotent read meets the refused owner and moves on to the next endpoint');
      assert.equal(cluster.healthyEndpoints().length, 1, 'a ejected');
      await assert.rejects(
        api.write(aKey),
        (e: unknown) => isCode(RpcCode.UNAVAILABLE)(e) && /owner of shard key/.test((e as Error).message) && !(e as RpcError).mayHaveRun,
      );
      assert.equal(await api.write(bKey), `b:${bKey}`, "b's keys are unaffected");
    } finally {
      await cluster.close();
      await b.server.close({ graceMs: 0 });
    }
  });
});
