import 'reflect-metadata';
import { rejectOnAbort } from '../helpers/wait';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, FrameKind, Method, RpcCode, type RpcError, Service, type CallContext } from '../../src/index';
import { rawConnect, startServer, type Started } from '../helpers/servers';
import { clientPreface, encodeFrame, framesReceived } from '../client/fake-server';
import { deferred, rejection, until } from '../helpers/wait';

/** `order` runs until the test opens its gate or the server aborts its signal; `forever` only till the abort. */
@Service('Shop')
class Shop {
  readonly gate = deferred<string>();
  readonly aborts: RpcError[] = [];
  entered = 0;
  echoes = 0;

  @Method() order(@Ctx() ctx: CallContext): Promise<string> {
    this.entered++;
    return new Promise((resolve, reject) => {
      rejectOnAbort(ctx, this.aborts, reject);
      void this.gate.promise.then(resolve);
    });
  }

  /** Ends only when the server aborts it. */
  @Method() forever(@Ctx() ctx: CallContext): Promise<never> {
    this.entered++;
    return new Promise((_, reject) => {
      rejectOnAbort(ctx, this.aborts, reject);
    });
  }

  @Method() echo(text: string): string {
    this.echoes++;
    return text;
  }
}

async function serverWithShop(): Promise<{ s: Started; shop: Shop; log: string[] }> {
  const shop = new Shop();
  const s = await startServer([shop]);
  const log: string[] = [];
  s.server.on('close', () => log.push('server close'));
  return { s, shop, log };
}

describe('graceful shutdown: server.close({ graceMs })', () => {
  test('the only in-flight call finishes within the grace period and succeeds (regression: its answer was lost)', async () => {
    const { s, shop, log } = await serverWithShop();
    try {
      const client = s.client();
      client.on('goaway', (_remote, reason) => log.push(`goaway: ${reason}`));
      const call = client
        .proxy(Shop)
        .order()
        .then((v) => log.push(`result: ${v}`));
      await until(() => shop.entered === 1, 5000, 'the handler to start');
      const closed = s.server.close({ graceMs: 10_000 });
      await until(() => log.length === 1, 5000, 'the goaway');
      shop.gate.resolve('shipped');
      await call;
      await closed;
      assert.deepEqual(log, ['goaway: server shutting down', 'result: shipped', 'server close']);
      assert.equal(shop.aborts.length, 0);
      assert.equal(s.server.connectionCount, 0);
      assert.equal(s.server.inFlight, 0);
    } finally {
      await s.stop();
    }
  });

  test('calls still running when the grace ends are aborted: handler signal, then UNAVAILABLE to the client', async () => {
    const { s, shop, log } = await serverWithShop();
    try {
      const client = s.client();
      const calls = [rejection(client.proxy(Shop).order()), rejection(client.proxy(Shop).order())];
      await until(() => shop.entered === 2, 5000, 'both handlers to start');
      const closed = s.server.close({ graceMs: 100 });
      const errors = await Promise.all(calls);
      for (const err of errors) {
        assert.equal(err.code, RpcCode.UNAVAILABLE);
        assert.equal(err.message, 'server shut down before the call finished');
      }
      assert.equal(shop.aborts.length, 2);
      for (const reason of shop.aborts) {
        assert.equal(reason.code, RpcCode.UNAVAILABLE);
        assert.equal(reason.message, 'server shut down before the call finished');
      }
      await closed;
      assert.deepEqual(log, ['server close']);
      assert.equal(s.server.inFlight, 0);
      assert.equal(client.pendingCount, 0);
    } finally {
      await s.stop();
    }
  });

  test('one call finishes within the grace and one does not: each gets its own outcome', async () => {
    const { s, shop } = await serverWithShop();
    try {
      const client = s.client();
      const quick = client.proxy(Shop).order();
      const stuck = rejection(client.proxy(Shop).forever());
      await until(() => shop.entered === 2, 5000, 'both handlers to start');
      const closed = s.server.close({ graceMs: 200 });
      shop.gate.resolve('in time');
      assert.equal(await quick, 'in time');
      const err = await stuck;
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.equal(err.message, 'server shut down before the call finished');
      assert.deepEqual(
        shop.aborts.map((r) => r.code),
        [RpcCode.UNAVAILABLE],
      );
      await closed;
    } finally {
      await s.stop();
    }
  });

  test('after GOAWAY, a new call on the same client opens a new connection, which the closed listener refuses', async () => {
    const { s, shop } = await serverWithShop();
    try {
      const client = s.client();
      const goaways: string[] = [];
      client.on('goaway', (remote) => goaways.push(remote));
      const inFlight = client.proxy(Shop).order();
      await until(() => shop.entered === 1, 5000, 'the handler to start');
      const closed = s.server.close({ graceMs: 10_000 });
      await until(() => goaways.length === 1, 5000, 'the goaway');
      const late = await rejection(client.proxy(Shop).echo('too late'));
      assert.equal(late.code, RpcCode.UNAVAILABLE);
      assert.equal(late.mayHaveRun, false);
      assert.match(late.message, /ECONNREFUSED/);
      // A fresh client cannot get in either.
      assert.match((await rejection(s.client().proxy(Shop).echo('x'))).message, /ECONNREFUSED/);
      assert.equal(shop.echoes, 0);
      shop.gate.resolve('still delivered');
      assert.equal(await inFlight, 'still delivered');
      await closed;
    } finally {
      await s.stop();
    }
  });

  test('a request that arrives on a draining connection is refused with UNAVAILABLE and not run', async () => {
    const { s, shop } = await serverWithShop();
    const raw = await rawConnect(s.port);
    try {
      raw.socket.write(Buffer.concat([clientPreface(), encodeFrame(FrameKind.REQUEST, 1, ['Shop', 'order', [], 60_000])]));
      await until(() => shop.entered === 1, 5000, 'the handler to start');
      const closed = s.server.close({ graceMs: 10_000 });
      const [goaway] = await framesReceived(raw.received, 1);
      assert.equal(goaway.kind, FrameKind.GOAWAY);
      assert.deepEqual(goaway.value, { reason: 'server shutting down' });
      raw.socket.write(encodeFrame(FrameKind.REQUEST, 2, ['Shop', 'echo', ['hi'], 60_000]));
      const refused = (await framesReceived(raw.received, 2))[1];
      assert.equal(refused.kind, FrameKind.ERROR);
      assert.equal(refused.id, 2);
      // notRun tells the client the request never ran, so it may safely go elsewhere.
      assert.deepEqual(refused.value, { code: 'UNAVAILABLE', message: 'server is shutting down', notRun: true });
      assert.equal(shop.echoes, 0);
      shop.gate.resolve('done');
      const answered = (await framesReceived(raw.received, 3))[2];
      assert.deepEqual([answered.kind, answered.id, answered.value], [FrameKind.RESPONSE, 1, 'done']);
      await raw.closed; // the server closes the connection once its last call is answered
      await closed;
    } finally {
      raw.socket.destroy();
      await s.stop();
    }
  });

  test('idle connections close at once: close() does not wait for the grace period', async () => {
    const { s, log } = await serverWithShop();
    try {
      const clients = [s.client(), s.client()];
      const events: string[] = [];
      for (const c of clients) {
        await c.connect();
        c.on('goaway', () => events.push('goaway'));
        c.on('disconnect', (_r, err) => events.push(`disconnect ${err?.code}`));
      }
      assert.equal(s.server.connectionCount, 2);
      let guard: NodeJS.Timeout | undefined;
      const grace = new Promise<'grace'>((resolve) => (guard = setTimeout(() => resolve('grace'), 5_000)));
      const first = await Promise.race([s.server.close({ graceMs: 60_000 }).then(() => 'closed' as const), grace]);
      clearTimeout(guard);
      assert.equal(first, 'closed', 'close() waited for the grace period although no call was in flight');
      assert.deepEqual(log, ['server close']);
      assert.equal(s.server.connectionCount, 0);
      await until(() => events.length === 4, 5000, 'both clients to see goaway and disconnect');
      assert.deepEqual(events.sort(), ['disconnect undefined', 'disconnect undefined', 'goaway', 'goaway']);
    } finally {
      await s.stop();
    }
  });

  test('close() is idempotent and emits close once', async () => {
    const { s, log } = await serverWithShop();
    const a = s.server.close({ graceMs: 50 });
    const b = s.server.close({ graceMs: 5000 });
    assert.equal(a, b);
    await a;
    await s.stop();
    assert.deepEqual(log, ['server close']);
  });
});
