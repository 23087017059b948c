import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { RpcCode } from '../../src/index';
import { FrameKind, PREFACE_BYTES } from '../../src/protocol/frame';
import { assertServes, setup, until } from './harness';
import { body, clientPreface, frame, openSession, parseFrames, parsePrefaceReply, requestFrame } from './wire';

describe('protocol edges documented in PROTOCOL.md', () => {
  test('a preface and requests pipelined right after CONNECT /myrpc are served, after the exact 200 answer', async (t) => {
    const h = await setup(t);
    const { port } = await h.server.listenHttp(0);
    const socket = connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    let got = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => (got = Buffer.concat([got, c])));
    socket.write(
      Buffer.concat([
        Buffer.from('CONNECT /myrpc HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
        clientPreface(),
        requestFrame(1, 'Calculator', 'add', [2, 3]),
      ]),
    );
    const answer = 'HTTP/1.1 200 Connection Established\r\n\r\n';
    await until(() => got.length >= answer.length + PREFACE_BYTES + 10, 'the tunnel answer, preface and response');
    assert.equal(got.toString('latin1', 0, answer.length), answer);
    const rest = got.subarray(answer.length);
    assert.equal(parsePrefaceReply(rest)?.preface.status, 0);
    const [response] = parseFrames(rest.subarray(PREFACE_BYTES));
    assert.deepEqual([response.kind, response.id, body(response)], [FrameKind.RESPONSE, 1, 5]);
  });

  test('null metadata means none; metadata that is not an object of strings is INVALID_ARGUMENT for that call', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    s.socket.write(
      Buffer.concat([
        frame(FrameKind.REQUEST, 1, '["Calculator","add",[2,3],1000,null]'),
        frame(FrameKind.REQUEST, 2, '["Calculator","add",[2,3],1000,{"a":1}]'),
        frame(FrameKind.REQUEST, 3, '["Calculator","add",[2,3],1000,[]]'),
      ]),
    );
    assert.equal(body(await s.frameWhere((f) => f.id === 1)), 5);
    for (const id of [2, 3]) {
      const err = await s.frameWhere((f) => f.id === id);
      assert.deepEqual([err.kind, body(err).code, body(err).notRun], [FrameKind.ERROR, RpcCode.INVALID_ARGUMENT, true]);
    }
    await assertServes(h);
  });

  test('a bad magic of upper-case letters (MYRPX) is refused only once 8 bytes are in', async (t) => {
    const h = await setup(t);
    const s = connect(h.port, '127.0.0.1');
    t.after(() => s.destroy());
    let got = Buffer.alloc(0);
    s.on('data', (c: Buffer) => (got = Buffer.concat([got, c])));
    await new Promise((r) => s.once('connect', r));
    s.write('MYRPX');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got.length, 0, 'the server answered before 8 bytes');
    s.write('ABC');
    await until(() => got.length >= PREFACE_BYTES, 'the refusal');
    assert.equal(got[7], 3, 'status 3 = BAD_MAGIC');
  });
});
