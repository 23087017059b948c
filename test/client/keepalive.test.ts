import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcClient, RpcCode } from '../../src/index';
import { rejection } from '../helpers/wait';
import { FrameKind, startFakeServer } from './fake-server';

describe('client keepalive', () => {
  test('a server that stops answering is found by keepalive: calls fail at once with UNAVAILABLE, long before their deadline', async () => {
    // Answers the preface, then never says another word (a host gone without a FIN looks the same).
    const silent = await startFakeServer();
    const client = new RpcClient({ port: silent.port, keepaliveMs: 100, keepaliveTimeoutMs: 200 });
    try {
      await client.connect();
      const started = Date.now();
      const err = await rejection(client.call('Calculator', 'add', [2, 3], { timeoutMs: 20_000 }));
      const tookMs = Date.now() - started;
      assert.equal(err.code, RpcCode.UNAVAILABLE);
      assert.equal(err.timeout, 'keepalive');
      assert.match(err.message, /no answer to PING from 127\.0\.0\.1:\d+ within 200 ms \(keepalive timeout\)/);
      assert.ok(tookMs < 3000, `took ${tookMs} ms`);
      const peer = await silent.peer(0);
      assert.ok(
        peer.frames.some((f) => f.kind === FrameKind.PING),
        'the client sent a PING',
      );
      assert.equal(client.pendingCount, 0);
    } finally {
      await client.close();
      await silent.close();
    }
  });

  test('a server that answers PINGs keeps the connection', async () => {
    const server = await startFakeServer({ onFrame: (peer, f) => f.kind === FrameKind.PING && peer.send(FrameKind.PONG, f.id) });
    const client = new RpcClient({ port: server.port, keepaliveMs: 50, keepaliveTimeoutMs: 100 });
    const disconnects: unknown[] = [];
    client.on('disconnect', (_r, err) => disconnects.push(err));
    try {
      await client.connect();
      const peer = await server.peer(0);
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(peer.frames.filter((f) => f.kind === FrameKind.PING).length >= 3);
      assert.deepEqual(disconnects, []);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
