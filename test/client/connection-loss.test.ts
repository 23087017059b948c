import 'reflect-metadata';
import { rejectOnAbort } from '../helpers/wait';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, FrameKind, Method, RpcClient, RpcCode, type RpcError, Service, type CallContext } from '../../src/index';
import { startServer, type Started } from '../helpers/servers';
import { startFakeServer } from './fake-server';
import { deferred, keepingLoopAlive, rejection, until, type Deferred } from '../helpers/wait';

@Service('Store')
class Store {
  readonly aborts: RpcError[] = [];
  entered: Deferred<void> = deferred();

  @Method() hang(@Ctx() ctx: CallContext): Promise<never> {
    return new Promise((_, reject) => {
      rejectOnAbort(ctx, this.aborts, reject);
      this.entered.resolve();
    });
  }

  @Method() get(key: string): string {
    return `value of ${key}`;
  }
}

/** A client whose sockets the test can reach, to cut the connection from the client's side. */
function capturingClient(port: number): { client: RpcClient; sockets: Socket[] } {
  const sockets: Socket[] = [];
  const client = new RpcClient({
    port,
    createConnection: (o) => {
      const socket = new Socket().connect(o);
      sockets.push(socket);
      return socket;
    },
  });
  return { client, sockets };
}

describe('the server side drops the connection mid-call', () => {
  test('every pending call rejects at once with UNAVAILABLE, mayHaveRun true, and disconnect fires', async () => {
    const fake = await startFakeServer({
      onFrame(peer) {
        if (peer.frames.filter((f) => f.kind === FrameKind.REQUEST).length === 3) peer.socket.destroy();
      },
    });
    const client = new RpcClient({ port: fake.port });
    const disconnects: (RpcError | undefined)[] = [];
    client.on('disconnect', (_remote, err) => disconnects.push(err));
    try {
      // Long deadlines: only the connection loss can end these calls within the test's time.
      const calls = [1, 2, 3].map((i) => rejection(client.call('Store', 'hang', [i], { timeoutMs: 60_000 })));
      const errors = await Promise.all(calls);
      for (const err of errors) {
        assert.equal(err.code, RpcCode.UNAVAILABLE);
        assert.equal(err.mayHaveRun, true, 'the request was written, so it may have run');
        assert.equal(err.timeout, undefined);
        assert.match(err.message, /^Store\.hang: connection to 127\.0\.0\.1:\d+ lost$/);
      }
      assert.equal(disconnects.length, 1);
      assert.equal(disconnects[0]?.code, RpcCode.UNAVAILABLE);
      assert.equal(client.pendingCount, 0);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  test('a new call after the drop opens a new connection to the still-running server', async () => {
    const fake = await startFakeServer({
      onFrame(peer, frame) {
        if (frame.kind !== FrameKind.REQUEST) return;
        if (fake.peers.indexOf(peer) === 0)
          peer.socket.destroy(); // the first connection dies on its first request
        else peer.send(FrameKind.RESPONSE, frame.id, 'served by the second connection');
      },
    });
    const client = new RpcClient({ port: fake.port });
    const events: string[] = [];
    client.on('connect', () => events.push('connect'));
    client.on('disconnect', (_r, err) => events.push(`disconnect ${err?.code}`));
    try {
      assert.equal((await rejection(client.call('Store', 'get', ['a']))).code, RpcCode.UNAVAILABLE);
      assert.equal(await client.call('Store', 'get', ['b']), 'served by the second connection');
      assert.equal(fake.peers.length, 2);
      assert.deepEqual(events, ['connect', 'disconnect UNAVAILABLE', 'connect']);
    } finally {
      await client.close();
      await fake.close();
    }
  });
});

describe('the client side loses its socket mid-call (real server)', () => {
  let s: Started;
  let store: Store;
  before(async () => {
    store = new Store();
    s = await startServer([store]);
  });
  after(() => s.stop());

  test('a written request may have run; one still queued in the writer never left (regression: a flush into a destroyed socket counted as sent)', async () => {
    const { client, sockets } = capturingClient(s.port);
    try {
      await client.connect();
      store.entered = deferred();
      const aborts = store.aborts.length;
      const written = rejection(client.call('Store', 'hang', [], { timeoutMs: 60_000 }));
      await store.entered.promise; // it reached the handler
      const queued = rejection(client.call('Store', 'hang', [], { timeoutMs: 60_000 })); // coalesced until the next tick
      sockets[0].destroy();
      const [w, q] = await Promise.all([written, queued]);
      assert.equal(w.code, RpcCode.UNAVAILABLE);
      assert.equal(w.mayHaveRun, true);
      assert.equal(q.code, RpcCode.UNAVAILABLE);
      assert.equal(q.mayHaveRun, false, 'the second request was never handed to the socket');
      // The server noticed the disconnect and aborted the running handler.
      await until(() => store.aborts.length > aborts, 5000, 'the handler to be aborted');
      assert.equal(store.aborts[aborts].message, 'client disconnected');
      await until(() => s.server.inFlight === 0, 5000, 'the server to forget the call');
    } finally {
      await client.close();
    }
  });

  test('the next call reconnects; events: connect, disconnect with the error, connect', async () => {
    const { client, sockets } = capturingClient(s.port);
    const events: string[] = [];
    client.on('connect', (remote) => events.push(`connect ${remote === `127.0.0.1:${s.port}`}`));
    client.on('disconnect', (_r, err) => events.push(`disconnect ${err?.code}`));
    try {
      assert.equal(await client.proxy(Store).get('x'), 'value of x');
      sockets[0].destroy();
      await until(() => events.length === 2, 5000, 'the disconnect event');
      assert.equal(await client.proxy(Store).get('y'), 'value of y');
      assert.equal(sockets.length, 2);
      assert.deepEqual(events, ['connect true', 'disconnect UNAVAILABLE', 'connect true']);
      await client.close();
      assert.deepEqual(events.slice(3), [], 'nothing more until the socket closes');
      await until(() => events.length === 4, 5000, 'the disconnect event after close()');
      assert.equal(events[3], 'disconnect undefined', 'a deliberate close carries no error');
    } finally {
      await client.close();
    }
  });

  test('close(): pending calls reject with CANCELLED, later calls with UNAVAILABLE', async () => {
    const client = s.client();
    store.entered = deferred();
    const pending = rejection(client.call('Store', 'hang', [], { timeoutMs: 60_000 }));
    await store.entered.promise;
    await client.close();
    assert.equal((await pending).code, RpcCode.CANCELLED);
    const later = await rejection(client.call('Store', 'get', ['z']));
    assert.equal(later.code, RpcCode.UNAVAILABLE);
    assert.equal(later.mayHaveRun, false);
  });
});

describe('calls made while the connection is still opening', () => {
  test('a server that closes during the handshake fails them all with mayHaveRun false', async () => {
    const slam = await startFakeServer({ mode: 'silent', onPeer: (peer) => peer.socket.destroy() });
    const client = new RpcClient({ port: slam.port });
    const errors: RpcError[] = [];
    client.on('error', (e) => errors.push(e));
    try {
      const calls = [1, 2, 3].map((i) => rejection(client.call('Store', 'get', [String(i)], { timeoutMs: 60_000 })));
      for (const err of await Promise.all(calls)) {
        assert.equal(err.code, RpcCode.UNAVAILABLE);
        assert.equal(err.mayHaveRun, false);
        assert.match(err.message, /closed the connection during the handshake/);
      }
      assert.equal(errors.length, 1, 'the three calls shared one connection attempt');
      assert.equal(slam.peers.length, 1);
    } finally {
      await client.close();
      await slam.close();
    }
  });

  test('a refused connection fails them all with mayHaveRun false, and error fires once', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = new RpcClient({ port });
    const errors: RpcError[] = [];
    client.on('error', (e) => errors.push(e));
    const calls = [1, 2, 3].map((i) => rejection(client.call('Store', 'get', [String(i)], { timeoutMs: 60_000 })));
    for (const err of await Promise.all(calls)) {
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.equal(err.mayHaveRun, false);
      assert.equal(err, errors[0], "each call gets the connection attempt's error");
    }
    assert.equal(errors.length, 1);
    await client.close();
  });

  test("the call's own deadline bounds the wait for a connection", async () => {
    const never = new Socket();
    const client = new RpcClient({ port: 1, connectTimeoutMs: 60_000, createConnection: () => never });
    await keepingLoopAlive(async () => {
      const err = await rejection(client.call('Store', 'get', ['k'], { timeoutMs: 50 }));
      assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
      assert.equal(err.timeout, 'call');
      assert.equal(err.mayHaveRun, false);
      // close() aborts the connection attempt at once (regression: it used to wait out the connect timeout).
      await client.close();
      assert.equal(never.destroyed, true, 'the attempt was abandoned by close(), not by its timeout');
    });
    assert.equal(never.destroyed, true);
  });
});
