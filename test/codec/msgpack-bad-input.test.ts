import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { RpcCode } from '../../src/index';
import { msgpackCodec } from '../../src/codec/msgpack-codec';
import { FrameKind, PREFACE_BYTES } from '../../src/protocol/frame';
import { rawConnect } from '../helpers/servers';
import { assertServes, setup, until } from '../server/harness';
import { clientPreface, frame, parseFrames } from '../server/wire';

// Requests whose MessagePack payload the decoder refuses: each gets INVALID_ARGUMENT naming what is wrong, on a
// connection that stays open, and the server goes on serving.
const head = [0x94, 0xaa, ...Buffer.from('Calculator'), 0xa3, ...Buffer.from('add')]; // [ 'Calculator', 'add', …
const timeout = [0xcd, 0x13, 0x88]; // … 5000 ]
const BAD: readonly [string, number[], RegExp][] = [
  ['an extension type other than the timestamp', [...head, 0x91, 0xd4, 0x05, 0x00, ...timeout], /extension type 5 is not supported/],
  ['a map key that is nil', [...head, 0x91, 0x81, 0xc0, 0x01, ...timeout], /map key must be a string or a number/],
  ['a __proto__ map key', [...head, 0x91, 0x81, 0xa9, ...Buffer.from('__proto__'), 0x01, ...timeout], /__proto__ is not allowed/],
  ['an array longer than the payload', [...head, 0xdd, 0xff, 0xff, 0xff, 0xff], /truncated/],
  ['bytes after the value', [...head, 0x92, 0x01, 0x02, ...timeout, 0x00], /extra byte/],
  ['the reserved byte 0xc1', [...head, 0x92, 0xc1, 0x02, ...timeout], /unrecognized type byte 0xc1/],
];

describe('MessagePack payloads the decoder refuses', () => {
  for (const [name, bytes, message] of BAD) {
    test(`${name}: INVALID_ARGUMENT, and the server goes on serving`, async (t) => {
      const h = await setup(t);
      const peer = await rawConnect(h.port);
      h.track(peer);
      peer.socket.write(clientPreface({ codec: msgpackCodec.id }));
      await peer.waitFor(PREFACE_BYTES);
      peer.socket.write(frame(FrameKind.REQUEST, 1, Buffer.from(bytes)));
      await until(() => parseFrames(peer.received().subarray(PREFACE_BYTES)).length > 0, 'the answer');
      const [answer] = parseFrames(peer.received().subarray(PREFACE_BYTES));
      assert.equal(answer.kind, FrameKind.ERROR);
      const err = msgpackCodec.decode(answer.payload) as { code: string; message: string };
      assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
      assert.match(err.message, message);
      await assertServes(h);
    });
  }
});
