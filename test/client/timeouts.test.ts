import 'reflect-metadata';
import { rejectOnAbort } from '../helpers/wait';
import { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Ctx,
  DEFAULT_CALL_TIMEOUT_MS,
  FrameKind,
  Method,
  RpcClient,
  RpcCode,
  type RpcError,
  Service,
  withOptions,
  type CallContext,
} from '../../src/index';
import { rawConnect, startServer, type Started, closedPort } from '../helpers/servers';
import { clientPreface, encodeFrame, framesReceived, startFakeServer } from './fake-server';
import { keepingLoopAlive, rejection, until } from '../helpers/wait';

/** Handlers that never answer on their own: they end only when the server aborts their signal. */
@Service('Clock')
class Clock {
  readonly aborts: RpcError[] = [];
  readonly deadlines: number[] = [];

  @Method() hang(@Ctx() ctx: CallContext): Promise<never> {
    return this.untilAborted(ctx);
  }

  @Method({ timeoutMs: 50 }) capped(@Ctx() ctx: CallContext): Promise<never> {
    return this.untilAborted(ctx);
  }

  @Method() deadline(@Ctx() ctx: CallContext): number {
    return ctx.deadline;
  }

  private untilAborted(ctx: CallContext): Promise<never> {
    this.deadlines.push(ctx.deadline);
    return new Promise((_, reject) => {
      rejectOnAbort(ctx, this.aborts, reject);
    });
  }
}

describe('connect timeout', () => {
  test('a socket that never connects fails with UNAVAILABLE, timeout "connect", not run', async () => {
    const never = new Socket(); // a real socket that is never told to connect: deterministic, sends nothing
    const client = new RpcClient({ port: 1, connectTimeoutMs: 50, createConnection: () => never });
    const errors: RpcError[] = [];
    client.on('error', (e) => errors.push(e));
    const err = await keepingLoopAlive(() => rejection(client.call('Clock', 'deadline', [], { timeoutMs: 30_000 })));
    assert.equal(err.code, RpcCode.UNAVAILABLE);
    assert.equal(err.timeout, 'connect');
    assert.equal(err.mayHaveRun, false);
    assert.equal(err.retryable, true);
    assert.match(err.message, /connect to 127\.0\.0\.1:1 timed out after 50 ms/);
    assert.deepEqual(errors, [err]);
    assert.equal(never.destroyed, true, 'the abandoned socket is destroyed');
    assert.equal(client.pendingCount, 0);
    await client.close();
  });

  test('a refused connection fails with UNAVAILABLE at once, not after the connect timeout', async () => {
    const port = await closedPort();
    const client = new RpcClient({ port, connectTimeoutMs: 60_000 });
    const err = await rejection(client.call('Clock', 'deadline', [], { timeoutMs: 60_000 }));
    assert.equal(err.code, RpcCode.UNAVAILABLE);
    assert.equal(err.timeout, undefined);
    assert.equal(err.mayHaveRun, false);
    assert.match(err.message, /ECONNREFUSED/);
    await client.close();
  });
});

describe('handshake timeout', () => {
  test('client: a peer that accepts and says nothing fails with UNAVAILABLE, timeout "handshake"', async () => {
    const silent = await startFakeServer({ mode: 'silent' });
    try {
      const client = new RpcClient({ port: silent.port, handshakeTimeoutMs: 100 });
      const err = await rejection(client.call('Clock', 'deadline', [], { timeoutMs: 30_000 }));
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.equal(err.timeout, 'handshake');
      assert.equal(err.mayHaveRun, false);
      assert.match(err.message, /no MyRPC preface .* within 100 ms/);
      await client.close();
    } finally {
      await silent.close();
    }
  });

  test('server: a socket that connects and sends nothing is dropped after handshakeTimeoutMs', async () => {
    const s = await startServer([new Clock()], { handshakeTimeoutMs: 100 });
    try {
      const clientErrors: RpcError[] = [];
      s.server.on('clientError', (e) => clientErrors.push(e));
      const raw = await rawConnect(s.port);
      const received = await raw.closed;
      assert.equal(received.length, 0, 'the server says nothing to a silent peer');
      assert.equal(clientErrors.length, 1);
      assert.equal(clientErrors[0].code, RpcCode.UNAVAILABLE);
      assert.match(clientErrors[0].message, /handshake timeout/);
      assert.equal(typeof (await s.client().proxy(Clock).deadline()), 'number', 'the server still serves');
    } finally {
      await s.stop();
    }
  });
});

describe('write timeout', () => {
  test('a server that stops reading fails the pending calls with UNAVAILABLE, timeout "write"', async () => {
    const stalled = await startFakeServer({ onPeer: (peer) => peer.socket.pause() });
    let socket: Socket | undefined;
    const client = new RpcClient({
      port: stalled.port,
      writeTimeoutMs: 150,
      // Above the 4 MiB this test queues, so that every call is handed to the socket rather than waiting.
      outputHighWaterBytes: 8 * 1024 * 1024,
      createConnection: (o) => (socket = new Socket().connect(o)),
    });
    const disconnects: (RpcError | undefined)[] = [];
    client.on('disconnect', (_remote, err) => disconnects.push(err));
    try {
      await client.connect();
      const big = 'x'.repeat(1024 * 1024);
      const calls: Promise<RpcError>[] = [];
      // Send 1 MiB requests until the socket holds 4 MiB it could not hand to the kernel (bounded at 64).
      for (let i = 0; i < 64 && !socket?.destroyed && (socket?.writableLength ?? 0) < 4 * 1024 * 1024; i++) {
        calls.push(rejection(client.call('Sink', 'put', [big], { timeoutMs: 60_000 })));
        await new Promise((r) => setImmediate(r));
      }
      assert.ok((socket?.writableLength ?? 0) >= 4 * 1024 * 1024 || socket?.destroyed, 'the socket refused our bytes');
      const errors = await Promise.all(calls);
      for (const err of errors) {
        assert.equal(err.code, RpcCode.UNAVAILABLE);
        assert.equal(err.timeout, 'write');
        assert.equal(err.mayHaveRun, true, 'the request was handed to the socket');
        assert.match(err.message, /did not take our bytes for 150 ms/);
      }
      assert.equal(disconnects.length, 1);
      assert.equal(disconnects[0]?.timeout, 'write');
      assert.equal(client.pendingCount, 0);
    } finally {
      await client.close();
      await stalled.close();
    }
  });
});

describe('call timeout (the deadline)', () => {
  let s: Started;
  let clock: Clock;
  before(async () => {
    clock = new Clock();
    s = await startServer([clock]);
  });
  after(() => s.stop());

  test('a slow handler fails with DEADLINE_EXCEEDED, timeout "call", and its signal is aborted', async () => {
    const client = s.client();
    const aborted = clock.aborts.length;
    const err = await rejection(withOptions(client.proxy(Clock), { timeoutMs: 150 }).hang());
    assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
    assert.equal(err.timeout, 'call');
    assert.equal(err.retryable, false);
    await until(() => clock.aborts.length > aborted, 5000, 'the handler to be aborted');
    assert.match(clock.aborts[aborted].code, /^(CANCELLED|DEADLINE_EXCEEDED)$/);
    assert.equal(client.pendingCount, 0);
    await until(() => s.server.inFlight === 0, 5000, 'the server to forget the call');
  });

  test('the deadline travels with the request: ctx.deadline is the client deadline', async () => {
    const deadline = Date.now() + 7_000;
    const seen = await withOptions(s.client().proxy(Clock), { deadline }).deadline();
    // The server rebuilds it from the time left, rounded up, so it is never earlier than the client's.
    assert.ok(seen >= deadline - 2, `server deadline ${seen} is before the client's ${deadline}`);
    assert.ok(seen - deadline < 1000, `server deadline ${seen} is far after the client's ${deadline}`);
  });

  test('the server aborts the handler at the deadline even if the client never sends CANCEL', async () => {
    const aborted = clock.aborts.length;
    const raw = await rawConnect(s.port);
    try {
      raw.socket.write(Buffer.concat([clientPreface(), encodeFrame(FrameKind.REQUEST, 7, ['Clock', 'hang', [], 100])]));
      const [frame] = await framesReceived(raw.received, 1);
      assert.equal(frame.kind, FrameKind.ERROR);
      assert.equal(frame.id, 7);
      assert.deepEqual(frame.value, {
        code: 'DEADLINE_EXCEEDED',
        message: "Clock.hang did not finish before the call's deadline",
        timeout: 'call',
      });
      await until(() => clock.aborts.length > aborted, 5000, 'the handler to be aborted');
      assert.equal(clock.aborts[aborted].code, RpcCode.DEADLINE_EXCEEDED, 'aborted by the deadline, not by a cancel');
      assert.equal(raw.socket.destroyed, false, 'the connection stays open');
      assert.equal(s.server.inFlight, 0);
    } finally {
      raw.socket.destroy();
    }
  });

  test('default deadline: a call without options fails after defaultTimeoutMs', async () => {
    const err = await rejection(s.client({ defaultTimeoutMs: 100 }).proxy(Clock).hang());
    assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
    assert.equal(err.timeout, 'call');
  });

  test('no call waits forever: without any option the deadline is DEFAULT_CALL_TIMEOUT_MS away', async () => {
    assert.ok(Number.isFinite(DEFAULT_CALL_TIMEOUT_MS) && DEFAULT_CALL_TIMEOUT_MS > 0);
    const before = Date.now();
    const seen = await s.client().proxy(Clock).deadline();
    const after = Date.now();
    assert.ok(seen >= before + DEFAULT_CALL_TIMEOUT_MS - 2 && seen <= after + DEFAULT_CALL_TIMEOUT_MS + 1000, `deadline ${seen}`);
  });
});

describe("handle timeout (the server's own limit)", () => {
  test('@Method({ timeoutMs }) fails with DEADLINE_EXCEEDED, timeout "handle", before the client deadline', async () => {
    const clock = new Clock();
    const s = await startServer([clock]);
    try {
      const err = await rejection(withOptions(s.client().proxy(Clock), { timeoutMs: 30_000 }).capped());
      assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
      assert.equal(err.timeout, 'handle');
      assert.match(err.message, /exceeded the server's handle timeout/);
      await until(() => clock.aborts.length === 1, 5000, 'the handler to be aborted');
      assert.equal(clock.aborts[0].timeout, 'handle');
    } finally {
      await s.stop();
    }
  });

  test('the server option handleTimeoutMs caps every handler', async () => {
    const clock = new Clock();
    const s = await startServer([clock], { handleTimeoutMs: 80 });
    try {
      const err = await rejection(withOptions(s.client().proxy(Clock), { timeoutMs: 30_000 }).hang());
      assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
      assert.equal(err.timeout, 'handle');
      await until(() => clock.aborts.length === 1, 5000, 'the handler to be aborted');
      // The handler still sees the client's (longer) deadline; only the server's limit stopped it.
      assert.ok(clock.deadlines[0] - Date.now() > 20_000);
    } finally {
      await s.stop();
    }
  });

  test('when the client deadline is the shorter one, the server reports "call", not "handle"', async () => {
    const clock = new Clock();
    const s = await startServer([clock], { handleTimeoutMs: 30_000 });
    const raw = await rawConnect(s.port);
    try {
      raw.socket.write(Buffer.concat([clientPreface(), encodeFrame(FrameKind.REQUEST, 1, ['Clock', 'capped', [], 20])]));
      const [frame] = await framesReceived(raw.received, 1);
      assert.equal((frame.value as { timeout: string }).timeout, 'call');
    } finally {
      raw.socket.destroy();
      await s.stop();
    }
  });
});
