import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { Ctx, Method, RpcCode, Service, type CallContext } from '../../src/index';
import { msgpackCodec } from '../../src/codec/msgpack-codec';
import { FrameKind, PREFACE_BYTES, PrefaceStatus } from '../../src/protocol/frame';
import { encodeRequest } from '../../src/protocol/request';
import { rawConnect } from '../helpers/servers';
import { assertServes, failure, setup, until, type Harness } from './harness';
import {
  body,
  clientPreface,
  closedWithin,
  frame,
  openSession,
  parseFrames,
  parsePrefaceReply,
  requestFrame,
  type WireFrame,
} from './wire';

/** A raw JSON session that announced `maxFrameBytes`; `frames()` lists what the server sent since. */
async function sessionWithLimit(
  h: Harness,
  maxFrameBytes: number,
): Promise<{ write(b: Buffer): void; frames(): WireFrame[]; closed: Promise<Buffer> }> {
  const peer = await rawConnect(h.port);
  h.track(peer);
  peer.socket.write(clientPreface({ maxFrameBytes }));
  const reply = parsePrefaceReply(await peer.waitFor(PREFACE_BYTES));
  assert.equal(reply?.preface.status, PrefaceStatus.OK);
  return { write: (b) => peer.socket.write(b), frames: () => parseFrames(peer.received().subarray(PREFACE_BYTES)), closed: peer.closed };
}

describe('after a connection-level error nothing more runs', () => {
  for (const [name, fatal] of [
    ['a REQUEST on id 0', requestFrame(0, 'Calculator', 'echo', ['fatal'])],
    ['a RESPONSE from a client', frame(FrameKind.RESPONSE, 7, '1')],
  ] as const) {
    test(`no handler runs after ${name}, even for requests in the same chunk`, async (t) => {
      const h = await setup(t);
      const s = await openSession(h.port, h.track);
      s.socket.write(Buffer.concat([fatal, requestFrame(1, 'Calculator', 'echo', ['a']), requestFrame(2, 'Calculator', 'echo', ['b'])]));
      await closedWithin(s);
      assert.equal(h.calc.echoes, 0, 'a handler ran after the fatal frame');
      assert.deepEqual(
        s.frames().map((f) => [f.kind, f.id]),
        [[FrameKind.ERROR, 0]],
      );
      await assertServes(h);
    });
  }
});

describe("ERROR frames fit the client's announced limit", () => {
  test('every ERROR fits a 64-byte client limit and keeps its code; the connection-level one too', async (t) => {
    const h = await setup(t);
    const s = await sessionWithLimit(h, 64);
    s.write(
      Buffer.concat([
        requestFrame(1, 'Calculator', 'x'.repeat(8192), []),
        requestFrame(2, 'Calculator', 'add', ['two', 3]),
        requestFrame(3, 'Calculator', 'big', [1000]),
        frame(FrameKind.REQUEST, 4, '["Calculator", "add", [2, 3'),
        requestFrame(5, 'Faulty', 'hugeError', [5000]),
        requestFrame(6, 'Calculator', 'add', [2, 3], 0),
      ]),
    );
    await until(() => s.frames().length === 6, 'six answers');
    const codes = new Map(s.frames().map((f) => [f.id, body(f).code]));
    assert.deepEqual(Object.fromEntries(codes), {
      1: RpcCode.UNIMPLEMENTED,
      2: RpcCode.INVALID_ARGUMENT,
      3: RpcCode.RESOURCE_EXHAUSTED,
      4: RpcCode.INVALID_ARGUMENT,
      5: RpcCode.NOT_FOUND,
      6: RpcCode.DEADLINE_EXCEEDED,
    });
    s.write(requestFrame(0, 'Calculator', 'add', [2, 3]));
    await s.closed;
    const all = s.frames();
    assert.equal(all.length, 7);
    assert.equal(body(all[6]).code, RpcCode.INVALID_ARGUMENT);
    for (const f of all) assert.ok(f.payload.length <= 64, `a ${f.payload.length}-byte ERROR for a 64-byte limit: ${f.payload.toString()}`);
    await assertServes(h);
  });

  for (const limit of [0, 63]) {
    test(`a client announcing maxFrameBytes ${limit} is refused in the preface (status 4), before any frame`, async (t) => {
      const h = await setup(t);
      const peer = await rawConnect(h.port);
      h.track(peer);
      peer.socket.write(clientPreface({ maxFrameBytes: limit }));
      const reply = parsePrefaceReply(await closedWithin(peer));
      assert.equal(reply?.preface.status, PrefaceStatus.FRAME_LIMIT_TOO_SMALL);
      assert.equal(reply?.reason, `maxFrameBytes ${limit} is below the minimum of 64 bytes`);
      await assertServes(h);
    });
  }

  test('an unknown 1 MiB service name is not echoed back in full', async (t) => {
    const h = await setup(t);
    const client = h.client();
    const err = await failure(client.call('S'.repeat(1 << 20), 'm', []));
    assert.equal(err.code, RpcCode.UNIMPLEMENTED);
    assert.ok(err.message.length < 300, `a ${err.message.length}-character message`);
    assert.match(err.message, /\(1048576 characters\)/);
  });
});

describe('notRun: refusals before the handler starts say so', () => {
  test('UNIMPLEMENTED, INVALID_ARGUMENT and a deadline passed on arrival carry notRun', async (t) => {
    const h = await setup(t);
    const client = h.client();
    for (const [service, method, args] of [
      ['Nope', 'x', []],
      ['Calculator', 'add', ['two', 3]],
    ] as const) {
      const err = await failure(client.call(service, method, [...args]));
      assert.equal(err.mayHaveRun, false, `${service}.${method}: ${err.code}`);
    }
    const s = await openSession(h.port, h.track);
    s.socket.write(Buffer.concat([requestFrame(1, 'Calculator', 'add', [2, 3], 0), frame(FrameKind.REQUEST, 2, '{}')]));
    const late = await s.frameWhere((f) => f.id === 1);
    assert.deepEqual([body(late).code, body(late).notRun], [RpcCode.DEADLINE_EXCEEDED, true]);
    const malformed = await s.frameWhere((f) => f.id === 2);
    assert.deepEqual([body(malformed).code, body(malformed).notRun], [RpcCode.INVALID_ARGUMENT, true]);
  });
});

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { x: value };
  return value;
}

describe('a nesting limit for decoded arguments', () => {
  test('a 5,000-level DTO gives INVALID_ARGUMENT with a maxDepth detail, never INTERNAL (JSON, raw bytes)', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    // Built as text: JSON.stringify itself overflows the stack at this depth.
    const deep = `${'{"x":'.repeat(5000)}1${'}'.repeat(5000)}`;
    s.socket.write(frame(FrameKind.REQUEST, 1, `["Calculator","register",[{"email":"a@b.co","age":1,"extra":${deep}}],5000]`));
    const err = body(await s.frameWhere((f) => f.id === 1));
    assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
    assert.deepEqual(
      err.details.map((d: { path: string; constraint: string }) => [d.path, d.constraint]),
      [['args[0]', 'maxDepth']],
    );
    assert.equal(h.handlerErrors.length, 0);
    await assertServes(h);
  });

  test('the same over MessagePack, sent as raw bytes (the reference encoder stops at 100 levels)', async (t) => {
    const h = await setup(t);
    const peer = await rawConnect(h.port);
    h.track(peer);
    peer.socket.write(clientPreface({ codec: msgpackCodec.id }));
    await peer.waitFor(PREFACE_BYTES);
    const deep = Buffer.concat([Buffer.from(Array.from({ length: 5000 }, () => [0x81, 0xa1, 0x78]).flat()), Buffer.from([0x01])]);
    const head = Buffer.from(msgpackCodec.encode(encodeRequest('Calculator', 'register', [0], 5000)));
    // Replace the trailing args [0] (0x91 0x00 then timeout) by [deep]: re-encode around a placeholder.
    const at = head.indexOf(Buffer.from([0x91, 0x00]));
    const payload = Buffer.concat([head.subarray(0, at), Buffer.from([0x91]), deep, head.subarray(at + 2)]);
    peer.socket.write(frame(FrameKind.REQUEST, 1, payload));
    await until(() => parseFrames(peer.received().subarray(PREFACE_BYTES)).length > 0, 'the answer');
    const answer = msgpackCodec.decode(parseFrames(peer.received().subarray(PREFACE_BYTES))[0].payload) as {
      code: string;
      details: { constraint: string }[];
    };
    assert.equal(answer.code, RpcCode.INVALID_ARGUMENT);
    assert.equal(answer.details[0].constraint, 'maxDepth');
    await assertServes(h);
  });

  test('over HTTP too: a 5,000-level argument is a 400 INVALID_ARGUMENT with the maxDepth detail', async (t) => {
    const h = await setup(t);
    const { port } = await h.server.listenHttp(0);
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    const res = await fetch(`http://127.0.0.1:${port}/rpc/Calculator/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `[{"email":"a@b.co","age":1,"extra":${deep}}]`,
    });
    const answer = (await res.json()) as { code: string; details: { constraint: string }[] };
    assert.equal(res.status, 400);
    assert.equal(answer.code, RpcCode.INVALID_ARGUMENT);
    assert.equal(answer.details[0].constraint, 'maxDepth');
    assert.equal(h.handlerErrors.length, 0);
  });

  test('100 levels are accepted', async (t) => {
    const h = await setup(t);
    const err = await failure(h.client().call('Calculator', 'register', [{ email: 'bad', age: 1, ...{ extra: nested(98) } }]));
    assert.notEqual(err.details[0]?.constraint, 'maxDepth');
  });
});

class Thenable {
  constructor(private readonly outcome: { value?: unknown; error?: unknown }) {}
  then(resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    setTimeout(() => ('error' in this.outcome ? reject(this.outcome.error) : resolve(this.outcome.value)), 5);
  }
}

@Service('Query')
class QueryService {
  @Method() find(id: number): unknown {
    return new Thenable({ value: { id, name: `row ${id}` } });
  }

  @Method() failing(): unknown {
    return new Thenable({ error: new Error('connection refused') });
  }

  @Method() slow(@Ctx() ctx: CallContext): unknown {
    return new Thenable({ value: ctx.deadline > Date.now() });
  }
}

describe('thenables returned by handlers are awaited like Promises', () => {
  test('a non-native thenable (a query builder) resolves to its value, and its rejection is INTERNAL', async (t) => {
    const h = await setup(t);
    h.server.register(new QueryService());
    const client = h.client();
    assert.deepEqual(await client.call('Query', 'find', [4]), { id: 4, name: 'row 4' });
    const err = await failure(client.call('Query', 'failing', []));
    assert.equal(err.code, RpcCode.INTERNAL);
    assert.equal(h.handlerErrors.length, 1);
    assert.equal(await client.call('Query', 'slow', []), true);
  });
});
