/**
 * Pins the bytes of client streams (preface flag 0x02, STREAM_ITEM and STREAM_END from the client, WINDOW from
 * the server) against a real RpcServer and a real RpcClient, checks that docs/PROTOCOL.md shows them, and feeds
 * the server frames that break the stream rules: each fails one call, and the connection goes on serving.
 */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Ctx, Method, RpcClient, RpcCode, Service, type CallContext } from '../../src/index';
import { rawConnect, startServer, type RawPeer } from '../helpers/servers';
import { rejection, until } from '../helpers/wait';
import { frame } from '../server/wire';

const VECTORS = {
  clientPreface: '4d5952504301000301000000',
  serverPreface: '4d5952504301008301000000',
  serverStreamsOnlyPreface: '4d5952504301008101000000',
  uploadRequest: '0000001801000000015b2255706c6f6164222c2273756d222c5b5d2c313030305d',
  uploadWindow: '0000000c09000000015b36342c313034383537365d',
  item2: '00000001080000000132',
  item3: '00000001080000000133',
  uploadEnd: '000000000a00000001',
  uploadResponse: '00000001020000000135',
} as const;
const hex = (...names: (keyof typeof VECTORS)[]): Buffer => Buffer.from(names.map((n) => VECTORS[n]).join(''), 'hex');

@Service('Upload')
class Upload {
  @Method({ stream: 'client' }) async sum(items: AsyncIterable<number>): Promise<number> {
    let t = 0;
    for await (const n of items) t += n;
    return t;
  }

  /** Reads nothing: holds the call until it is aborted. */
  @Method({ stream: 'client' }) hold(_items: AsyncIterable<number>, @Ctx() ctx: CallContext): Promise<number> {
    return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
  }

  @Method() slow(@Ctx() ctx: CallContext): Promise<number> {
    return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
  }

  @Method() add(a: number, b: number): number {
    return a + b;
  }
}

/** The frames after the 12-byte server preface. */
function framesOf(bytes: Buffer): { kind: number; id: number; text: string }[] {
  const out: { kind: number; id: number; text: string }[] = [];
  for (let at = 12; at + 9 <= bytes.length;) {
    const n = bytes.readUInt32BE(at);
    if (at + 9 + n > bytes.length) break;
    out.push({ kind: bytes[at + 4], id: bytes.readUInt32BE(at + 5), text: bytes.toString('utf8', at + 9, at + 9 + n) });
    at += 9 + n;
  }
  return out;
}

async function errorFor(peer: RawPeer, id: number): Promise<string> {
  const f = await until(() => framesOf(peer.received()).find((x) => x.kind === 3 && x.id === id), 5000, `an ERROR for id ${id}`);
  return f.text;
}

/** The connection still serves: `Upload.add(2, 3)` on `id` answers 5. */
async function stillServes(peer: RawPeer, id: number): Promise<void> {
  peer.socket.write(frame(1, id, '["Upload","add",[2,3],1000]'));
  const f = await until(() => framesOf(peer.received()).find((x) => x.id === id && x.kind === 2), 5000, `the answer to id ${id}`);
  assert.equal(f.text, '5');
}

describe('client stream wire bytes', () => {
  test('docs/PROTOCOL.md shows every client stream vector', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'PROTOCOL.md'), 'utf8');
    for (const [name, bytes] of Object.entries(VECTORS)) assert.ok(doc.includes(bytes), `docs/PROTOCOL.md lacks ${name}: ${bytes}`);
  });

  test('a real server: REQUEST is answered by a WINDOW, two items and STREAM_END by the RESPONSE', async () => {
    // The window these bytes were written for (the default is DEFAULT_STREAM_WINDOW_MESSAGES).
    const s = await startServer([new Upload()], { streamWindowMessages: 64 });
    try {
      const peer = await rawConnect(s.port);
      peer.socket.write(hex('clientPreface', 'uploadRequest'));
      const first = hex('serverPreface', 'uploadWindow');
      assert.equal((await peer.waitFor(first.length)).toString('hex'), first.toString('hex'));
      peer.socket.write(hex('item2', 'item3', 'uploadEnd'));
      const all = hex('serverPreface', 'uploadWindow', 'uploadResponse');
      assert.equal((await peer.waitFor(all.length)).toString('hex'), all.toString('hex'));
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('a real client sends the preface, the REQUEST, the items within the window and STREAM_END', async () => {
    const received: Buffer[] = [];
    let granted = false;
    const server = createServer((socket: Socket) => {
      socket.on('data', (chunk) => {
        received.push(chunk);
        const bytes = Buffer.concat(received);
        const all = bytes.toString('hex');
        if (all === VECTORS.clientPreface) socket.write(hex('serverPreface'));
        // Once the whole REQUEST is in (its timeout field follows the clock), grant the documented window.
        if (!granted && bytes.length >= 21 && bytes.length >= 21 + bytes.readUInt32BE(12)) {
          granted = true;
          socket.write(hex('uploadWindow'));
        }
        if (all.endsWith(VECTORS.uploadEnd)) socket.write(hex('uploadResponse'));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new RpcClient({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    try {
      await client.connect();
      const result = await client.clientStream('Upload', 'sum', [[2, 3]], { deadline: Date.now() + 1000 });
      assert.equal(result, 5);
      const sent = Buffer.concat(received).toString('hex');
      // The timeout field depends on the clock: compare everything but the REQUEST's payload.
      assert.ok(sent.startsWith(VECTORS.clientPreface));
      assert.ok(sent.endsWith(VECTORS.item2 + VECTORS.item3 + VECTORS.uploadEnd));
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });

  test('a server that acknowledges only server streams: a client stream fails with UNIMPLEMENTED before anything is sent', async () => {
    const received: Buffer[] = [];
    const server = createServer((socket: Socket) => {
      socket.on('data', (chunk) => {
        received.push(chunk);
        if (Buffer.concat(received).length === 12) socket.write(hex('serverStreamsOnlyPreface'));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new RpcClient({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    try {
      await client.connect();
      const err = await rejection(client.clientStream('Upload', 'sum', [[2, 3]]));
      assert.equal(err.code, RpcCode.UNIMPLEMENTED);
      assert.match(err.message, /Upload\.sum: 127\.0\.0\.1:\d+ does not speak client streams/);
      assert.equal(err.mayHaveRun, false);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(Buffer.concat(received).toString('hex'), VECTORS.clientPreface);
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });

  test('a malformed WINDOW from the server fails that client stream with INTERNAL, and the client sends CANCEL', async () => {
    const received: Buffer[] = [];
    let answered = false;
    const server = createServer((socket: Socket) => {
      socket.on('data', (chunk) => {
        received.push(chunk);
        const bytes = Buffer.concat(received);
        if (bytes.length === 12) socket.write(hex('serverPreface'));
        if (!answered && bytes.length >= 21 && bytes.length >= 21 + bytes.readUInt32BE(12)) {
          answered = true;
          socket.write(frame(9, 1, '"lots"'));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new RpcClient({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    try {
      const err = await rejection(client.clientStream('Upload', 'sum', [[2, 3]]));
      assert.equal(err.code, RpcCode.INTERNAL);
      assert.equal(err.message, 'Upload.sum: malformed WINDOW payload from the server');
      await until(() => Buffer.concat(received).toString('hex').endsWith('000000000400000001'), 2000, 'the CANCEL for id 1');
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });

  test('a peer that announced only server streams gets UNIMPLEMENTED for a client stream, and unary calls still work', async () => {
    const s = await startServer([new Upload()]);
    try {
      const peer = await rawConnect(s.port);
      peer.socket.write(Buffer.concat([Buffer.from('4d5952504301000101000000', 'hex'), hex('uploadRequest')]));
      const text = await errorFor(peer, 1);
      assert.match(text, /"code":"UNIMPLEMENTED"/);
      assert.match(text, /Upload\.sum is a client stream and this connection did not announce client streams in its preface/);
      assert.match(text, /"notRun":true/);
      await stillServes(peer, 2);
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });
});

describe('client stream bad input', () => {
  async function peerOf(port: number): Promise<RawPeer> {
    const peer = await rawConnect(port);
    peer.socket.write(hex('clientPreface'));
    await peer.waitFor(12);
    return peer;
  }

  test('STREAM_ITEM and STREAM_END for an id with no open client stream are answered INVALID_ARGUMENT', async () => {
    const s = await startServer([new Upload()]);
    try {
      const peer = await peerOf(s.port);
      peer.socket.write(frame(8, 7, '1'));
      assert.match(await errorFor(peer, 7), /STREAM_ITEM for request id 7, which is not an open client stream/);
      peer.socket.write(frame(10, 8, ''));
      assert.match(await errorFor(peer, 8), /STREAM_END for request id 8, which is not an open client stream/);
      await stillServes(peer, 9);
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('items beyond the granted credit fail the call with RESOURCE_EXHAUSTED', async () => {
    // The window these bytes were written for (the default is DEFAULT_STREAM_WINDOW_MESSAGES).
    const s = await startServer([new Upload()], { streamWindowMessages: 64 });
    try {
      const peer = await peerOf(s.port);
      const items = Array.from({ length: 65 }, () => frame(8, 1, '1'));
      peer.socket.write(Buffer.concat([frame(1, 1, '["Upload","hold",[],5000]'), ...items]));
      const text = await errorFor(peer, 1);
      assert.match(text, /"code":"RESOURCE_EXHAUSTED"/);
      assert.match(text, /Upload\.hold: the client sent item #65 beyond the credit it was granted \(window of 64 items, 1048576 bytes\)/);
      await stillServes(peer, 2);
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('a WINDOW for a unary call fails that call with INVALID_ARGUMENT', async () => {
    const s = await startServer([new Upload()]);
    try {
      const peer = await peerOf(s.port);
      peer.socket.write(frame(1, 3, '["Upload","slow",[],5000]'));
      await new Promise((r) => setTimeout(r, 20));
      peer.socket.write(frame(9, 3, '[1,1]'));
      assert.match(await errorFor(peer, 3), /WINDOW for Upload\.slow, which sends no stream items/);
      await stillServes(peer, 4);
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('STREAM_END twice fails the call with INVALID_ARGUMENT', async () => {
    const s = await startServer([new Upload()]);
    try {
      const peer = await peerOf(s.port);
      peer.socket.write(Buffer.concat([frame(1, 5, '["Upload","hold",[],5000]'), frame(10, 5, ''), frame(10, 5, '')]));
      assert.match(await errorFor(peer, 5), /Upload\.hold: STREAM_END received twice/);
      await stillServes(peer, 6);
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('a malformed item payload fails the call with INVALID_ARGUMENT', async () => {
    const s = await startServer([new Upload()]);
    try {
      const peer = await peerOf(s.port);
      peer.socket.write(Buffer.concat([frame(1, 1, '["Upload","sum",[],5000]'), frame(8, 1, '{not json')]));
      const text = await errorFor(peer, 1);
      assert.match(text, /"code":"INVALID_ARGUMENT"/);
      assert.match(text, /Upload\.sum: malformed stream item payload/);
      await stillServes(peer, 2);
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  test('items that were in flight when a call ended are dropped without an answer', async () => {
    const s = await startServer([new Upload()]);
    try {
      const peer = await peerOf(s.port);
      peer.socket.write(Buffer.concat([frame(1, 1, '["Upload","sum",[],5000]'), frame(8, 1, '2'), frame(10, 1, '')]));
      await until(() => framesOf(peer.received()).find((x) => x.id === 1 && x.kind === 2), 5000, 'the RESPONSE');
      peer.socket.write(frame(8, 1, '3'));
      await stillServes(peer, 2);
      assert.equal(framesOf(peer.received()).filter((x) => x.kind === 3).length, 0, 'no ERROR frame');
      peer.socket.destroy();
    } finally {
      await s.stop();
    }
  });
});
