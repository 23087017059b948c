import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { RpcClient, RpcCode, RpcError } from '../../src/index';
import { encodePreface, FrameKind, PREFACE_BYTES, PROTOCOL_VERSION, PrefaceStatus } from '../../src/protocol/frame';
import { assertServes, failure, proveUndisturbed, setup, until } from './harness';
import { body, frame, openSession, parseFrames, requestFrame } from './wire';

/** Generous bound for "at once": far below the calls' own 30 s deadlines, far above a noisy machine's jitter. */
const PROMPTLY_MS = 10_000;

function abortReason(signal: AbortSignal): RpcError {
  assert.ok(signal.aborted, 'the handler signal is aborted');
  assert.ok(RpcError.is(signal.reason), `the abort reason is an RpcError: ${String(signal.reason)}`);
  return signal.reason;
}

describe('handlers that never return', () => {
  test('the client deadline fails the call with DEADLINE_EXCEEDED (call); the handler is told; the server serves on', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const started = Date.now();
      const err = await failure(client.call('Calculator', 'hang', [], { timeoutMs: 200 }));
      assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
      assert.equal(err.timeout, 'call');
      assert.match(err.message, /Calculator\.hang: deadline exceeded/);
      assert.ok(Date.now() - started < PROMPTLY_MS);
      await until(() => h.calc.signalOf('hang').aborted, 'the hanging handler to be aborted');
      assert.ok([RpcCode.CANCELLED, RpcCode.DEADLINE_EXCEEDED].includes(abortReason(h.calc.signalOf('hang')).code as 'CANCELLED'));
      await assertServes(h, client);
    });
    assert.equal(h.server.inFlight, 0, 'nothing left in flight');
    assert.equal(h.handlerErrors.length, 0);
  });

  test('@Method({ timeoutMs }) fails the call with DEADLINE_EXCEEDED (handle) long before the client deadline', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const started = Date.now();
      const err = await failure(client.call('Calculator', 'hangBriefly', [], { timeoutMs: 30_000 }));
      assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
      assert.equal(err.timeout, 'handle');
      assert.match(err.message, /Calculator\.hangBriefly exceeded the server's handle timeout/);
      assert.ok(Date.now() - started < PROMPTLY_MS);
      const reason = abortReason(h.calc.signalOf('hangBriefly'));
      assert.equal(reason.code, RpcCode.DEADLINE_EXCEEDED);
      assert.equal(reason.timeout, 'handle');
      await assertServes(h, client);
    });
  });

  test("the server's handleTimeoutMs bounds every handler the same way", async (t) => {
    const h = await setup(t, { handleTimeoutMs: 150 });
    const client = h.client();
    const err = await failure(client.call('Calculator', 'hang', [], { timeoutMs: 30_000 }));
    assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
    assert.equal(err.timeout, 'handle');
    assert.equal(abortReason(h.calc.signalOf('hang')).timeout, 'handle');
    await assertServes(h, client);
  });

  test('the server enforces the deadline itself when the client never cancels', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    s.socket.write(requestFrame(3, 'Calculator', 'hang', [], 150));
    const f = await s.frameWhere((x) => x.id === 3);
    assert.equal(f.kind, FrameKind.ERROR);
    assert.deepEqual(body(f), {
      code: RpcCode.DEADLINE_EXCEEDED,
      message: "Calculator.hang did not finish before the call's deadline",
      timeout: 'call',
    });
    assert.equal(abortReason(h.calc.signalOf('hang')).code, RpcCode.DEADLINE_EXCEEDED);
    s.socket.write(requestFrame(4, 'Calculator', 'add', [2, 3]));
    assert.equal(body(await s.frameWhere((x) => x.id === 4)), 5);
  });
});

describe('many calls waiting on one connection', () => {
  test('the server expires each hanging call at its own deadline, in deadline order, whatever order they came in', async (t) => {
    // One deadline queue per connection times them; out-of-order deadlines beyond its insertion walk get timers of their own.
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    const timeouts = [450, 150, 300, 60, 600, 210, 90, 390, 510, 30, 240, 120, 360, 180, 270, 540];
    s.socket.write(Buffer.concat(timeouts.map((ms, i) => requestFrame(i + 1, 'Calculator', 'hang', [], ms))));
    await until(() => s.frames().length === timeouts.length, 'an answer to every call', 10_000);
    const frames = s.frames();
    for (const f of frames) {
      assert.equal(f.kind, FrameKind.ERROR);
      assert.equal(body(f).code, RpcCode.DEADLINE_EXCEEDED);
    }
    // In deadline order; a stall of the event loop may let timers due together fire in one pass, hence the slack.
    const arrived = frames.map((f) => timeouts[f.id - 1]);
    assert.deepEqual([...new Set(frames.map((f) => f.id))].length, timeouts.length, 'one answer per call');
    arrived.forEach((ms, i) => {
      for (const later of arrived.slice(i + 1)) assert.ok(ms <= later + 200, `the ${ms} ms call was answered after the ${later} ms one`);
    });
    s.socket.write(requestFrame(99, 'Calculator', 'add', [2, 3]));
    assert.equal(body(await s.frameWhere((x) => x.id === 99)), 5);
    assert.equal(h.server.inFlight, 0);
  });
});

describe('a client that vanishes mid-call', () => {
  test('a raw peer destroying its socket aborts the handler signal; the server serves others', async (t) => {
    const h = await setup(t);
    await proveUndisturbed(h, async () => {
      const s = await openSession(h.port, h.track);
      const inFlight = h.server.inFlight;
      s.socket.write(requestFrame(1, 'Calculator', 'wait', [60_000]));
      await until(() => h.server.inFlight > inFlight, 'the slow call to start');
      const signal = h.calc.signalOf('wait');
      assert.equal(signal.aborted, false);
      s.socket.destroy();
      await until(() => signal.aborted, 'the handler signal to abort');
      const reason = abortReason(signal);
      assert.equal(reason.code, RpcCode.CANCELLED);
      assert.match(reason.message, /client disconnected/);
      await until(() => h.server.inFlight === inFlight, 'the call to be forgotten');
    });
  });

  test('a CANCEL frame aborts the handler signal and nothing is answered for that id', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    s.socket.write(requestFrame(1, 'Calculator', 'wait', [60_000]));
    await until(() => h.server.inFlight === 1, 'the slow call to start');
    s.socket.write(frame(FrameKind.CANCEL, 1));
    await until(() => h.calc.signalOf('wait').aborted, 'the handler signal to abort');
    assert.match(abortReason(h.calc.signalOf('wait')).message, /cancelled by the client/);
    s.socket.write(requestFrame(2, 'Calculator', 'add', [2, 3]));
    assert.equal(body(await s.frameWhere((f) => f.id === 2)), 5);
    assert.deepEqual(
      s.frames().map((f) => f.id),
      [2],
      'no answer for the cancelled call',
    );
    assert.equal(h.server.inFlight, 0);
  });

  test('an RpcClient closed mid-call aborts the handler; its caller gets CANCELLED', async (t) => {
    const h = await setup(t);
    const client = h.client();
    const failed = failure(client.call('Calculator', 'wait', [60_000]));
    await until(() => h.server.inFlight === 1, 'the slow call to start');
    await client.close();
    const err = await failed;
    assert.equal(err.code, RpcCode.CANCELLED);
    await until(() => h.calc.signalOf('wait').aborted, 'the handler signal to abort');
    await assertServes(h);
  });
});

/** A TCP server that completes the handshake, then destroys the socket when the first frame arrives. */
async function vanishingServer(t: TestContext): Promise<{ port: number; requests: () => number }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    let received = Buffer.alloc(0);
    let answered = false;
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= PREFACE_BYTES && !answered) {
        answered = true;
        socket.write(encodePreface({ version: PROTOCOL_VERSION, codec: 0, status: PrefaceStatus.OK, maxFrameBytes: 1 << 20 }));
      }
      if (parseFrames(received.subarray(PREFACE_BYTES)).length > 0) {
        requests++;
        socket.destroy();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, requests: () => requests };
}

describe('a server that vanishes mid-call', () => {
  test('server.close({ graceMs: 0 }): the pending call rejects at once with UNAVAILABLE, mayHaveRun true', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await assertServes(h, client);
    const started = Date.now();
    const call = client.call('Calculator', 'held', [], { timeoutMs: 30_000 });
    const failed = failure(call);
    await until(() => h.server.inFlight === 1, 'the call to start');
    await h.server.close({ graceMs: 0 });
    const err = await failed;
    assert.equal(err.code, RpcCode.UNAVAILABLE);
    assert.match(err.message, /server shut down before the call finished/);
    assert.equal(err.mayHaveRun, true);
    assert.ok(Date.now() - started < PROMPTLY_MS, 'did not wait for its timeout');
    assert.equal(abortReason(h.calc.signalOf('held')).code, RpcCode.UNAVAILABLE, 'the handler was told');
  });

  test('the server side destroying the socket: every pending call rejects at once with UNAVAILABLE, mayHaveRun true', async (t) => {
    const fake = await vanishingServer(t);
    const client = new RpcClient({ host: '127.0.0.1', port: fake.port, defaultTimeoutMs: 30_000 });
    t.after(() => client.close());
    const disconnects: (RpcError | undefined)[] = [];
    client.on('disconnect', (_remote, err) => disconnects.push(err));
    const started = Date.now();
    const results = await Promise.allSettled([client.call('Calculator', 'add', [2, 3]), client.call('Calculator', 'echo', ['hi'])]);
    assert.ok(Date.now() - started < PROMPTLY_MS, 'did not wait for the 30 s timeout');
    assert.equal(fake.requests(), 1);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const err = r.reason as RpcError;
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.match(err.message, /^Calculator\.(add|echo): connection to 127\.0\.0\.1:\d+ lost$/);
      assert.equal(err.mayHaveRun, true);
    }
    assert.equal(disconnects.length, 1);
    assert.equal(disconnects[0]?.code, RpcCode.UNAVAILABLE);
    assert.equal(client.pendingCount, 0);
  });
});
