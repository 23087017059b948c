/**
 * Pins the bytes of server streams (frame kinds 8 to 10 and the preface flag) against a real RpcServer, and
 * checks that docs/PROTOCOL.md shows each of them; peers that do not announce streams keep working.
 */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Method, Service } from '../../src/index';
import { rawConnect, startServer } from '../helpers/servers';
import { until } from '../helpers/wait';
import { frame } from '../server/wire';

const VECTORS = {
  clientPreface: '4d5952504301000101000000',
  serverPreface: '4d5952504301008101000000',
  legacyPreface: '4d5952504301000001000000',
  streamRequest: '0000001901000000015b2246656564222c22636f756e74222c5b325d2c313030305d',
  window: '0000000c09000000015b36342c313034383537365d',
  item0: '00000001080000000130',
  item1: '00000001080000000131',
  streamEnd: '000000000a00000001',
} as const;
const hex = (...names: (keyof typeof VECTORS)[]): Buffer => Buffer.from(names.map((n) => VECTORS[n]).join(''), 'hex');

@Service('Feed')
class Feed {
  @Method() async *count(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
  }

  @Method() add(a: number, b: number): number {
    return a + b;
  }
}

describe('stream wire bytes', () => {
  test('docs/PROTOCOL.md shows every stream vector', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'PROTOCOL.md'), 'utf8');
    for (const [name, bytes] of Object.entries(VECTORS)) assert.ok(doc.includes(bytes), `docs/PROTOCOL.md lacks ${name}: ${bytes}`);
  });

  test('a streams peer: REQUEST and WINDOW are answered by two STREAM_ITEMs and a STREAM_END', async () => {
    const s = await startServer([new Feed()]);
    try {
      const peer = await rawConnect(s.port);
      peer.socket.write(hex('clientPreface', 'streamRequest', 'window'));
      const expected = hex('serverPreface', 'item0', 'item1', 'streamEnd');
      assert.equal((await peer.waitFor(expected.length)).toString('hex'), expected.toString('hex'));
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('without a WINDOW the server sends no item: the generator waits for credit', async () => {
    const s = await startServer([new Feed()]);
    try {
      const peer = await rawConnect(s.port);
      peer.socket.write(hex('clientPreface', 'streamRequest'));
      await peer.waitFor(12);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(peer.received().toString('hex'), VECTORS.serverPreface);
      peer.socket.write(hex('window'));
      const expected = hex('serverPreface', 'item0', 'item1', 'streamEnd');
      assert.equal((await peer.waitFor(expected.length)).toString('hex'), expected.toString('hex'));
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('a peer that does not announce streams gets UNIMPLEMENTED for a stream method, and unary calls still work', async () => {
    const s = await startServer([new Feed()]);
    try {
      const peer = await rawConnect(s.port);
      peer.socket.write(Buffer.concat([hex('legacyPreface', 'streamRequest'), frame(1, 2, '["Feed","add",[2,3],1000]')]));
      await until(() => peer.received().toString('hex').includes('00000001020000000235'), 5000, 'the RESPONSE 5 to id 2');
      const answer = peer.received();
      assert.equal(answer.subarray(0, 12).toString('hex'), VECTORS.legacyPreface);
      assert.equal(answer[12 + 4], 3, 'an ERROR frame answers the stream request');
      const text = answer.toString('latin1');
      assert.match(text, /"code":"UNIMPLEMENTED"/);
      assert.match(text, /Feed\.count is a server stream and this connection did not announce streams/);
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('a malformed WINDOW ends that stream with INVALID_ARGUMENT and the connection goes on serving', async () => {
    const s = await startServer([new Feed()]);
    try {
      const peer = await rawConnect(s.port);
      peer.socket.write(Buffer.concat([hex('clientPreface', 'streamRequest'), frame(9, 1, '"lots"')]));
      await peer.waitFor(40, 5000);
      assert.match(peer.received().toString('latin1'), /malformed WINDOW payload/);
      const before = peer.received().length;
      peer.socket.write(frame(1, 2, '["Feed","add",[2,3],1000]'));
      const after = await peer.waitFor(before + 10, 5000);
      assert.equal(after.subarray(before).toString('hex'), '00000001020000000235');
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });
});
