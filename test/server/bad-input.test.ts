import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { RpcClient, RpcCode, RpcError, type Codec } from '../../src/index';
import { jsonCodec } from '../../src/codec/json-codec';
import { FrameKind, PREFACE_BYTES, PrefaceStatus } from '../../src/protocol/frame';
import { rawConnect } from '../helpers/servers';
import { assertServes, failure, proveUndisturbed, setup, until, type Harness } from './harness';
import { body, clientPreface, closedWithin, frame, header, openSession, parsePrefaceReply, requestFrame } from './wire';

/** Sends `bytes` instead of a preface and returns the server's refusal, once it has closed the socket. */
async function refusedPreface(h: Harness, bytes: Buffer): Promise<{ status: number; reason: string | undefined }> {
  const peer = await rawConnect(h.port);
  h.track(peer);
  peer.socket.write(bytes);
  const reply = parsePrefaceReply(await closedWithin(peer));
  assert.ok(reply, 'the server closed without a whole preface');
  assert.equal(reply.rest.length, 0, 'nothing may follow the refusal');
  return { status: reply.preface.status, reason: reply.reason };
}

async function firstClientError(h: Harness): Promise<Harness['clientErrors'][number]> {
  await until(() => h.clientErrors.length > 0, "the server's clientError event");
  return h.clientErrors[0];
}

describe('bad input: the handshake', () => {
  for (const [name, bytes] of [
    ['garbage bytes', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x00])],
    ['the wrong magic (MYRPX)', Buffer.concat([Buffer.from('MYRPX', 'latin1'), clientPreface().subarray(5)])],
    ['a line of text', Buffer.from('HELLO SERVER\r\n', 'latin1')],
  ] as const) {
    test(`${name} instead of the preface: BAD_MAGIC with a reason, then close`, async (t) => {
      const h = await setup(t);
      await proveUndisturbed(h, async () => {
        const { status, reason } = await refusedPreface(h, bytes);
        assert.equal(status, PrefaceStatus.BAD_MAGIC);
        assert.match(reason ?? '', /bad magic: this is a MyRPC server and the peer did not send the MyRPC preface/);
        const { err, peer } = await firstClientError(h);
        assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
        assert.match(err.message, /bad magic/);
        assert.match(peer, /^127\.0\.0\.1:\d+$/);
      });
    });
  }

  test('a wrong protocol version: UNSUPPORTED_VERSION naming both versions, then close', async (t) => {
    const h = await setup(t);
    await proveUndisturbed(h, async () => {
      const { status, reason } = await refusedPreface(h, clientPreface({ version: 2 }));
      assert.equal(status, PrefaceStatus.UNSUPPORTED_VERSION);
      assert.equal(reason, 'unsupported protocol version 2; this server speaks 1');
      const { err } = await firstClientError(h);
      assert.equal(err.code, RpcCode.FAILED_PRECONDITION);
      assert.match(err.message, /unsupported protocol version 2/);
    });
  });

  test('an unknown codec id: UNSUPPORTED_CODEC naming it, then close', async (t) => {
    const h = await setup(t);
    await proveUndisturbed(h, async () => {
      const { status, reason } = await refusedPreface(h, clientPreface({ codec: 9 }));
      assert.equal(status, PrefaceStatus.UNSUPPORTED_CODEC);
      assert.equal(reason, 'unsupported codec id 9');
      const { err } = await firstClientError(h);
      assert.equal(err.code, RpcCode.FAILED_PRECONDITION);
      assert.match(err.message, /unsupported codec id 9/);
    });
  });

  test("an RpcClient whose codec the server does not know fails with the server's reason, never sent", async (t) => {
    const h = await setup(t);
    const exotic: Codec = { name: 'exotic', id: 42, encode: (v) => jsonCodec.encode(v), decode: (b) => jsonCodec.decode(b) };
    await proveUndisturbed(h, async () => {
      const err = await failure(h.client({ codec: exotic }).call('Calculator', 'add', [2, 3]));
      assert.equal(err.code, RpcCode.FAILED_PRECONDITION);
      assert.match(err.message, /refused the connection: unsupported codec id 42/);
      assert.equal(err.mayHaveRun, false);
    });
  });

  test('a plain HTTP request gets an HTTP/1.1 400 that says the port speaks MyRPC', async (t) => {
    const h = await setup(t);
    await proveUndisturbed(h, async () => {
      const peer = await rawConnect(h.port);
      h.track(peer);
      peer.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const answer = (await closedWithin(peer)).toString('utf8');
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(answer, /\r\nConnection: close\r\n/);
      const [, text] = answer.split('\r\n\r\n');
      assert.match(text, /This port speaks the MyRPC binary protocol over TCP, not HTTP/);
      const { err } = await firstClientError(h);
      assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
      assert.match(err.message, /plain HTTP request/);
    });
  });

  test('an HTTP request arriving a byte at a time is still recognised as HTTP', async (t) => {
    const h = await setup(t);
    const peer = await rawConnect(h.port);
    h.track(peer);
    for (const ch of 'POST ') {
      peer.socket.write(ch);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    peer.socket.write('/rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    assert.match((await closedWithin(peer)).toString('utf8'), /^HTTP\/1\.1 400 Bad Request\r\n[^]*This port speaks the MyRPC/);
    await assertServes(h);
  });

  test('an RpcClient pointed at a plain HTTP server fails with UNAVAILABLE "is not a MyRPC server"', async (t) => {
    const http = createHttpServer((_req, res) => res.end('hello from http'));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    t.after(() => {
      http.closeAllConnections();
      http.close();
    });
    const client = new RpcClient({ host: '127.0.0.1', port: (http.address() as AddressInfo).port, defaultTimeoutMs: 5000 });
    t.after(() => client.close());
    const err = await failure(client.call('Calculator', 'add', [2, 3]));
    assert.equal(err.code, RpcCode.UNAVAILABLE);
    assert.match(err.message, /127\.0\.0\.1:\d+ is not a MyRPC server \(it answered "HTTP\/1\.1/);
    assert.equal(err.mayHaveRun, false);
  });

  for (const [name, bytes] of [
    ['sends nothing', Buffer.alloc(0)],
    ['sends half a preface', clientPreface().subarray(0, 7)],
    ['sends the start of an HTTP method', Buffer.from('GE', 'latin1')],
  ] as const) {
    test(`a peer that ${name} is dropped at the handshake timeout`, async (t) => {
      const h = await setup(t, { handshakeTimeoutMs: 200 });
      await proveUndisturbed(h, async () => {
        const peer = await rawConnect(h.port);
        h.track(peer);
        if (bytes.length > 0) peer.socket.write(bytes);
        assert.equal((await closedWithin(peer)).length, 0, 'a silent drop: no bytes');
        const { err } = await firstClientError(h);
        assert.equal(err.code, RpcCode.UNAVAILABLE);
        assert.match(err.message, /no preface within 200 ms \(handshake timeout\)/);
      });
    });
  }

  test('a preface and request dribbled a byte at a time are served', async (t) => {
    const h = await setup(t);
    const peer = await rawConnect(h.port);
    h.track(peer);
    const bytes = Buffer.concat([clientPreface(), requestFrame(1, 'Calculator', 'add', [2, 3])]);
    for (let i = 0; i < bytes.length; i++) {
      peer.socket.write(bytes.subarray(i, i + 1));
      if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const all = await peer.waitFor(PREFACE_BYTES + 9 + 1);
    assert.equal(parsePrefaceReply(all)?.preface.status, PrefaceStatus.OK);
    await until(() => peer.received().length >= PREFACE_BYTES + 10, 'the response');
    const answer = peer.received().subarray(PREFACE_BYTES);
    assert.equal(answer[4], FrameKind.RESPONSE);
    assert.equal(answer.readUInt32BE(5), 1);
    assert.equal(answer.toString('utf8', 9), '5');
    assert.equal(h.clientErrors.length, 0);
  });
});

describe('bad input: frames', () => {
  for (const [name, make, unread] of [
    ['a header promising 100 bytes, then 10', () => Buffer.concat([header(FrameKind.REQUEST, 1, 100), Buffer.alloc(10, 0x20)]), 19],
    ['a header promising 100 bytes, then nothing', () => header(FrameKind.REQUEST, 1, 100), 9],
    ['half a header', () => header(FrameKind.REQUEST, 1, 100).subarray(0, 4), 4],
  ] as const) {
    test(`a truncated frame (${name}) then end: clientError says "in the middle of a frame"`, async (t) => {
      const h = await setup(t);
      await proveUndisturbed(h, async () => {
        const s = await openSession(h.port, h.track);
        s.socket.end(make());
        await closedWithin(s);
        const { err } = await firstClientError(h);
        assert.equal(err.code, RpcCode.UNAVAILABLE);
        assert.match(err.message, new RegExp(`connection closed in the middle of a frame \\(${unread} bytes unread\\)`));
      });
    });
  }

  test('an oversized frame is refused from its header alone: ERROR on id 0, RESOURCE_EXHAUSTED, close', async (t) => {
    const h = await setup(t, { maxFrameBytes: 1024 });
    await proveUndisturbed(h, async () => {
      const s = await openSession(h.port, h.track);
      assert.equal(s.preface.maxFrameBytes, 1024, 'the server announces its limit');
      s.socket.write(header(FrameKind.REQUEST, 7, 0x7fffffff)); // and never a byte of payload
      const refusal = await s.frameWhere((f) => f.kind === FrameKind.ERROR);
      assert.equal(refusal.id, 0);
      assert.equal(body(refusal).code, RpcCode.RESOURCE_EXHAUSTED);
      assert.match(body(refusal).message, /frame of 2147483647 bytes exceeds the limit of 1024 bytes/);
      await closedWithin(s); // without waiting for the 2 GiB that were promised
      const { err } = await firstClientError(h);
      assert.equal(err.code, RpcCode.RESOURCE_EXHAUSTED);
    });
  });

  test('one byte over the limit is refused; exactly the limit is read', async (t) => {
    const h = await setup(t, { maxFrameBytes: 1024 });
    const echo = (chars: number): Buffer => requestFrame(1, 'Calculator', 'echo', ['x'.repeat(chars)]);
    const room = 1024 - (echo(0).length - 9);
    const ok = await openSession(h.port, h.track);
    ok.socket.write(echo(room));
    assert.equal(body(await ok.frameWhere((f) => f.id === 1)), 'x'.repeat(room));
    const over = await openSession(h.port, h.track);
    over.socket.write(echo(room + 1));
    const refusal = await over.frameWhere((f) => f.kind === FrameKind.ERROR);
    assert.equal(refusal.id, 0);
    assert.match(body(refusal).message, /frame of 1025 bytes exceeds the limit of 1024 bytes/);
    await closedWithin(over);
    await assertServes(h);
  });

  test("a client request over the server's announced limit fails locally with RESOURCE_EXHAUSTED, never sent", async (t) => {
    const h = await setup(t, { maxFrameBytes: 1024 });
    const client = h.client();
    await proveUndisturbed(h, async () => {
      await assertServes(h, client);
      const err = await failure(client.call('Calculator', 'echo', ['x'.repeat(5000)]));
      assert.equal(err.code, RpcCode.RESOURCE_EXHAUSTED);
      assert.match(err.message, /Calculator\.echo: request of \d+ bytes exceeds the server's frame limit of 1024 bytes/);
      assert.equal(err.mayHaveRun, false);
      assert.equal(h.calc.echoes, 0);
      await assertServes(h, client);
    });
  });

  test("a response over the client's maxFrameBytes comes back as RESOURCE_EXHAUSTED from the server", async (t) => {
    const h = await setup(t);
    const client = h.client({ maxFrameBytes: 1024 });
    await proveUndisturbed(h, async () => {
      const err = await failure(client.call('Calculator', 'big', [5000]));
      assert.equal(err.code, RpcCode.RESOURCE_EXHAUSTED);
      assert.match(err.message, /the result exceeds the client's frame limit of 1024 bytes/);
      assert.equal(await client.call('Calculator', 'big', [100]), 'x'.repeat(100));
      await assertServes(h, client);
    });
  });

  test("an error over the client's maxFrameBytes keeps its code and the connection survives", async (t) => {
    const h = await setup(t);
    const client = h.client({ maxFrameBytes: 1024 });
    const sibling = client.call('Calculator', 'held', [], { timeoutMs: 20_000 });
    await until(() => h.server.inFlight > 0, 'the sibling call to reach the server');
    const err = await failure(client.call('Faulty', 'hugeError', [5000]));
    assert.equal(err.code, RpcCode.NOT_FOUND);
    assert.match(err.message, /^no such thing: x+/);
    assert.match(err.message, /truncated to fit the client's frame limit of 1024 bytes/);
    h.calc.release();
    assert.equal(await sibling, 'released', 'a call sharing the connection was not disturbed');
    await assertServes(h, client);
    assert.equal(h.clientErrors.length, 0);
  });

  test('invalid JSON in a REQUEST fails that request with INVALID_ARGUMENT; the same connection serves on', async (t) => {
    const h = await setup(t);
    await proveUndisturbed(h, async () => {
      const s = await openSession(h.port, h.track);
      s.socket.write(frame(FrameKind.REQUEST, 5, '["Calculator", "add", [2, 3], 1000'));
      const bad = await s.frameWhere((f) => f.id === 5);
      assert.equal(bad.kind, FrameKind.ERROR);
      assert.equal(body(bad).code, RpcCode.INVALID_ARGUMENT);
      assert.match(body(bad).message, /^malformed request payload: /);
      s.socket.write(requestFrame(6, 'Calculator', 'add', [2, 3]));
      const good = await s.frameWhere((f) => f.id === 6);
      assert.equal(good.kind, FrameKind.RESPONSE);
      assert.equal(body(good), 5);
      assert.equal(s.socket.destroyed, false);
    });
  });

  test('REQUEST payloads of the wrong shape each fail their own id, naming what is wrong', async (t) => {
    const h = await setup(t);
    const cases: [string | Buffer, RegExp][] = [
      ['', /payload must be an array \[service, method, args, timeoutMs, metadata\?\]/],
      ['{"service":"Calculator","method":"add","args":[2,3]}', /payload must be an array/],
      ['["Calculator","add",[2,3]]', /payload must be an array/],
      ['["Calculator","add",[2,3],1000,{},"extra"]', /payload must be an array/],
      ['[1,"add",[2,3],1000]', /service and method must be strings/],
      ['["Calculator",null,[2,3],1000]', /service and method must be strings/],
      ['["Calculator","add",{"0":2,"1":3},1000]', /args must be an array/],
      ['["Calculator","add",[2,3],"soon"]', /timeoutMs must be a number >= 0/],
      ['["Calculator","add",[2,3],-5]', /timeoutMs must be a number >= 0/],
      ['["Calculator","add",[2,3],1000,["trace"]]', /metadata must be an object of strings/],
      ['["Calculator","add",[2,3],1000,{"trace":42}]', /metadata values must be strings/],
      [Buffer.from([0xff, 0xfe, 0x00, 0x01]), /^malformed request payload: /],
    ];
    await proveUndisturbed(h, async () => {
      const s = await openSession(h.port, h.track);
      for (const [i, [payload]] of cases.entries()) s.socket.write(frame(FrameKind.REQUEST, 100 + i, payload));
      for (const [i, [payload, expected]] of cases.entries()) {
        const f = await s.frameWhere((x) => x.id === 100 + i);
        assert.equal(f.kind, FrameKind.ERROR, `payload ${String(payload)}`);
        assert.equal(body(f).code, RpcCode.INVALID_ARGUMENT, `payload ${String(payload)}`);
        assert.match(body(f).message, expected, `payload ${String(payload)}`);
      }
      s.socket.write(requestFrame(1, 'Calculator', 'add', [2, 3]));
      assert.equal(body(await s.frameWhere((f) => f.id === 1)), 5);
      assert.equal(h.clientErrors.length, 0, 'a bad payload fails its request, not the connection');
    });
  });

  test('an unknown frame kind fails the connection: ERROR on id 0, then close', async (t) => {
    const h = await setup(t);
    await proveUndisturbed(h, async () => {
      const s = await openSession(h.port, h.track);
      s.socket.write(frame(99, 1, 'hello'));
      const f = await s.frameWhere((x) => x.kind === FrameKind.ERROR);
      assert.equal(f.id, 0);
      assert.equal(body(f).code, RpcCode.INVALID_ARGUMENT);
      assert.match(body(f).message, /unknown frame kind 99/);
      await closedWithin(s);
      assert.match((await firstClientError(h)).err.message, /unknown frame kind 99/);
    });
  });

  for (const kind of [FrameKind.RESPONSE, FrameKind.GOAWAY]) {
    test(`a server-only frame kind (${kind}) from a client fails the connection`, async (t) => {
      const h = await setup(t);
      await proveUndisturbed(h, async () => {
        const s = await openSession(h.port, h.track);
        s.socket.write(frame(kind, 3, '{}'));
        const f = await s.frameWhere((x) => x.kind === FrameKind.ERROR);
        assert.equal(f.id, 0);
        assert.equal(body(f).code, RpcCode.INVALID_ARGUMENT);
        assert.match(body(f).message, new RegExp(`unexpected frame kind ${kind} from a client`));
        await closedWithin(s);
      });
    });
  }

  test('a second REQUEST reusing an id in flight is refused; the first one still completes', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    s.socket.write(requestFrame(9, 'Calculator', 'held', []));
    await until(() => h.server.inFlight === 1, 'the first call to start');
    s.socket.write(requestFrame(9, 'Calculator', 'add', [2, 3]));
    const dup = await s.frameWhere((f) => f.id === 9);
    assert.equal(dup.kind, FrameKind.ERROR);
    assert.equal(body(dup).code, RpcCode.INVALID_ARGUMENT);
    assert.match(body(dup).message, /request id 9 is already in flight/);
    h.calc.release();
    const first = await s.frameWhere((f) => f.id === 9 && f.kind === FrameKind.RESPONSE);
    assert.equal(body(first), 'released');
    await assertServes(h);
  });

  test('a REQUEST that arrives with no time left fails with DEADLINE_EXCEEDED and never runs', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    s.socket.write(requestFrame(4, 'Calculator', 'echo', ['late'], 0));
    const f = await s.frameWhere((x) => x.id === 4);
    assert.equal(f.kind, FrameKind.ERROR);
    assert.equal(body(f).code, RpcCode.DEADLINE_EXCEEDED);
    assert.match(body(f).message, /Calculator\.echo did not finish before the call's deadline/);
    assert.equal(h.calc.echoes, 0);
    s.socket.write(requestFrame(5, 'Calculator', 'add', [2, 3]));
    assert.equal(body(await s.frameWhere((x) => x.id === 5)), 5);
  });

  test('PING on a raw connection gets PONG with the same id; CANCEL of an unknown id is ignored', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    s.socket.write(Buffer.concat([frame(FrameKind.CANCEL, 77), frame(FrameKind.PING, 78)]));
    const pong = await s.frameWhere((f) => f.id === 78);
    assert.equal(pong.kind, FrameKind.PONG);
    assert.equal(s.frames().length, 1);
    s.socket.write(requestFrame(1, 'Calculator', 'add', [2, 3]));
    assert.equal(body(await s.frameWhere((f) => f.id === 1)), 5);
  });
});

describe('regressions from the protocol review', () => {
  test('a REQUEST on id 0 (reserved for the connection) is a connection-level error, and the server serves on', async (t) => {
    const h = await setup(t);
    await proveUndisturbed(h, async () => {
      const session = await openSession(h.port, h.track);
      session.socket.write(requestFrame(0, 'Calculator', 'add', [2, 3]));
      const error = await session.frameWhere((f) => f.kind === FrameKind.ERROR);
      assert.equal(error.id, 0);
      assert.deepEqual(body(error), { code: 'INVALID_ARGUMENT', message: 'request id 0 is reserved for connection-level errors' });
      await closedWithin(session);
      assert.ok(h.clientErrors.some((e) => /request id 0/.test(e.err.message)));
    });
  });

  test('a request refused during shutdown says it did not run (notRun), so mayHaveRun is false', async (t) => {
    const h = await setup(t);
    const session = await openSession(h.port, h.track);
    session.socket.write(requestFrame(1, 'Calculator', 'held', [])); // keeps this connection open while draining
    await until(() => h.server.inFlight > 0, 'the held call to start');
    const closing = h.server.close({ graceMs: 5000 });
    await session.frameWhere((f) => f.kind === FrameKind.GOAWAY);
    session.socket.write(requestFrame(7, 'Calculator', 'add', [2, 3]));
    const refusal = await session.frameWhere((f) => f.kind === FrameKind.ERROR && f.id === 7);
    assert.deepEqual(body(refusal), { code: 'UNAVAILABLE', message: 'server is shutting down', notRun: true });
    assert.equal(RpcError.fromWire(body(refusal)).mayHaveRun, false);
    assert.equal(RpcError.fromWire({ code: 'UNAVAILABLE', message: 'x' }).mayHaveRun, true, 'without notRun, assume it may have run');
    h.calc.release();
    const answer = await session.frameWhere((f) => f.kind === FrameKind.RESPONSE && f.id === 1);
    assert.equal(body(answer), 'released', 'the call in flight finished within the grace period');
    await closing;
  });

  test('a refused peer that never closes its side is dropped after a short linger', async (t) => {
    const h = await setup(t);
    const peer = await rawConnect(h.port);
    h.track(peer);
    peer.socket.allowHalfOpen = true; // keep our side open after the server's FIN, like a misbehaving peer
    peer.socket.write('garbage!garbage!');
    await peer.waitFor(PREFACE_BYTES);
    assert.equal(parsePrefaceReply(peer.received())?.preface.status, PrefaceStatus.BAD_MAGIC);
    assert.equal(h.server.connectionCount, 1, 'half-closed, waiting for the peer');
    await until(() => h.server.connectionCount === 0, 'the server to drop the lingering socket', 10_000);
    await assertServes(h);
  });
});
