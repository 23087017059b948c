import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcClient, RpcCode } from '../../src/index';
import { rejection } from '../helpers/wait';
import { encodeFrame, FrameKind, startFakeServer } from './fake-server';

describe('client: a broken or stalled stream from the server', () => {
  test('frames after a fatal one in the same chunk settle nothing: the call fails with UNAVAILABLE', async () => {
    const server = await startFakeServer({
      onFrame: (peer, f) => {
        if (f.kind !== FrameKind.REQUEST) return;
        // A REQUEST, which a server must not send, then a well-formed answer to the call, in one write.
        peer.socket.write(Buffer.concat([encodeFrame(FrameKind.REQUEST, 1, []), encodeFrame(FrameKind.RESPONSE, f.id, 'too late')]));
      },
    });
    const client = new RpcClient({ port: server.port });
    try {
      const err = await rejection(client.call('Calculator', 'add', [2, 3], { timeoutMs: 5000 }));
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.match(err.message, /unexpected frame kind 1 from 127\.0\.0\.1:\d+/);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('an incomplete frame from the server that stops is dropped by the frame stall timeout', async () => {
    const server = await startFakeServer({
      onFrame: (peer, f) => {
        if (f.kind === FrameKind.REQUEST) peer.socket.write(encodeFrame(FrameKind.RESPONSE, f.id, 'x'.repeat(100)).subarray(0, 50));
      },
    });
    const client = new RpcClient({ port: server.port, frameStallTimeoutMs: 200, keepaliveMs: 0 });
    try {
      const started = Date.now();
      const err = await rejection(client.call('Calculator', 'add', [2, 3], { timeoutMs: 10_000 }));
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.match(err.message, /received no byte for 200 ms \(frame stall timeout\)/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
