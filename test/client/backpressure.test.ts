import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { RpcClient, RpcCode } from '../../src/index';
import { rejection } from '../helpers/wait';
import 'reflect-metadata';
import { Method, Service } from '../../src/index';
import { startServer } from '../helpers/servers';
import { startFakeServer } from './fake-server';

@Service('Echo')
class Echo {
  @Method()
  echo(s: string): string {
    return s;
  }
}

describe('client backpressure', () => {
  test('calls beyond outputHighWaterBytes wait instead of growing the socket buffer, and time out with mayHaveRun false', async () => {
    const stalled = await startFakeServer({ onPeer: (peer) => peer.socket.pause() });
    let socket: Socket | undefined;
    const highWater = 256 * 1024;
    const client = new RpcClient({
      port: stalled.port,
      outputHighWaterBytes: highWater,
      createConnection: (o) => (socket = new Socket().connect(o)),
    });
    try {
      await client.connect();
      const arg = 'x'.repeat(64 * 1024);
      // 12.5 MiB of requests: more than the kernel's buffers on both sides can absorb.
      const calls = Array.from({ length: 200 }, () => rejection(client.call('Sink', 'put', [arg], { timeoutMs: 800 })));
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, socket?.writableLength ?? 0)), 5);
      const errors = await Promise.all(calls);
      clearInterval(sampler);
      assert.ok(peak <= highWater + 2 * 65 * 1024, `the socket buffer reached ${peak} bytes`);
      const waited = errors.filter((e) => !e.mayHaveRun);
      const sent = errors.filter((e) => e.mayHaveRun);
      assert.ok(waited.length > 0, 'no call waited for room');
      assert.ok(sent.length > 0, 'no call was sent');
      for (const e of errors) assert.equal(e.code, RpcCode.DEADLINE_EXCEEDED);
      for (const e of waited) assert.match(e.message, /while waiting for the connection to take more bytes/);
      assert.equal(client.pendingCount, 0);
    } finally {
      await client.close();
      await stalled.close();
    }
  });

  test('waiting calls are sent, in order, once the socket drains', async () => {
    const received: number[] = [];
    let resumePeer: (() => void) | undefined;
    const server = await startFakeServer({
      onPeer: (peer) => {
        peer.socket.pause();
        resumePeer = () => peer.socket.resume();
      },
      onFrame: (peer, f) => {
        received.push((f.value as [string, string, [number, string]])[2][0]);
        peer.send(2, f.id, 'ok');
      },
    });
    const client = new RpcClient({ port: server.port, outputHighWaterBytes: 64 * 1024 });
    try {
      await client.connect();
      const arg = 'y'.repeat(32 * 1024);
      const calls = Array.from({ length: 300 }, (_, i) => client.call('Sink', 'put', [i, arg], { timeoutMs: 10_000 }));
      await new Promise((r) => setTimeout(r, 100));
      resumePeer?.();
      assert.deepEqual(
        await Promise.all(calls),
        Array.from({ length: 300 }, () => 'ok'),
      );
      assert.deepEqual(
        received,
        Array.from({ length: 300 }, (_, i) => i),
      );
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('with an outputHighWaterBytes below what the socket buffers by itself, waiting calls are still sent', async (t) => {
    // The socket emits 'drain' only after a write it refused; with a mark this low it never refuses one.
    const started = await startServer([new Echo()]);
    t.after(() => started.stop());
    const client = started.client({ outputHighWaterBytes: 1, defaultTimeoutMs: 5000 });
    await client.connect();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => client.call('Echo', 'echo', [`call ${i}`])));
    assert.deepEqual(
      answers,
      Array.from({ length: 30 }, (_, i) => `call ${i}`),
    );
  });

  test('MessagePack calls that wait for room are sent with their own arguments, not those of later calls', async (t) => {
    // A binary request is encoded into a buffer that the next call's encoding reuses: one that waits must keep a copy.
    const started = await startServer([new Echo()]);
    t.after(() => started.stop());
    const client = started.client({ codec: 'msgpack', outputHighWaterBytes: 1 });
    await client.connect();
    const words = Array.from({ length: 40 }, (_, i) => `call ${i} `.repeat(500 + i));
    const answers = await Promise.all(words.map((w) => client.call('Echo', 'echo', [w])));
    answers.forEach((a, i) => assert.ok(a === words[i], `call ${i} came back as ${String(a).slice(0, 12)}…`));
  });
});
