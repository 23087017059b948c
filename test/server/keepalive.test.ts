import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameKind } from '../../src/protocol/frame';
import { assertServes, setup, until } from './harness';
import { closedWithin, frame, openSession, requestFrame } from './wire';

describe('server keepalive and idle timeout', () => {
  test('a silent peer (answers no PING) is found and closed within keepaliveMs + keepaliveTimeoutMs', async (t) => {
    const h = await setup(t, { keepaliveMs: 100, keepaliveTimeoutMs: 200 });
    const s = await openSession(h.port, h.track);
    const started = Date.now(); // the last byte the peer sends
    s.socket.write(requestFrame(1, 'Calculator', 'held', []));
    await until(() => h.server.inFlight === 1, 'the call to run');
    await closedWithin(s, 3000);
    const tookMs = Date.now() - started;
    assert.ok(
      s.frames().some((f) => f.kind === FrameKind.PING),
      'the server sent a PING first',
    );
    assert.ok(tookMs >= 300, `closed after ${tookMs} ms, before the keepalive timeout could pass`);
    assert.ok(h.clientErrors.some((e) => /no answer to PING within 200 ms \(keepalive timeout\)/.test(e.err.message)));
    // The call running for the silent peer is aborted at once, not left to its deadline.
    await until(() => h.calc.signalOf('held').aborted, "the held call's signal to abort");
    await until(() => h.server.inFlight === 0, 'the aborted call to end');
    await assertServes(h);
  });

  test('a peer that answers PINGs stays connected while idle', async (t) => {
    const h = await setup(t, { keepaliveMs: 50, keepaliveTimeoutMs: 100 });
    const s = await openSession(h.port, h.track);
    let answered = 0;
    s.socket.on('data', () => {
      const pings = s.frames().filter((f) => f.kind === FrameKind.PING).length;
      for (; answered < pings; answered++) s.socket.write(frame(FrameKind.PONG, 0));
    });
    await until(() => answered >= 5, 'five PINGs answered', 3000);
    assert.equal(s.socket.destroyed, false);
    assert.equal(h.clientErrors.length, 0);
  });

  test("an RpcClient answers the server's PINGs: an idle connection is kept and serves the next call", async (t) => {
    const h = await setup(t, { keepaliveMs: 50, keepaliveTimeoutMs: 100 });
    const client = h.client({ keepaliveMs: 0 });
    const disconnects: unknown[] = [];
    client.on('disconnect', (_r, err) => disconnects.push(err));
    await assertServes(h, client);
    await new Promise((r) => setTimeout(r, 500));
    await assertServes(h, client);
    assert.deepEqual(disconnects, []);
    assert.equal(h.server.connectionCount, 1);
  });

  test('idleTimeoutMs: a connection with no call is closed with GOAWAY, and the client reconnects for the next call', async (t) => {
    const h = await setup(t, { idleTimeoutMs: 200 });
    const client = h.client();
    const goaways: string[] = [];
    client.on('goaway', (_r, reason) => goaways.push(reason));
    await assertServes(h, client);
    await until(() => goaways.length === 1, 'GOAWAY for the idle connection', 3000);
    assert.equal(goaways[0], 'no call for 200 ms (idle timeout)');
    await until(() => h.server.connectionCount === 0, 'the idle connection to close');
    await assertServes(h, client);
  });

  test('idleTimeoutMs does not close a connection with a call in flight', async (t) => {
    const h = await setup(t, { idleTimeoutMs: 100 });
    const client = h.client();
    const call = client.call('Calculator', 'held', [], { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 400));
    h.calc.release();
    assert.equal(await call, 'released');
  });
});
