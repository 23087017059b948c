import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { FrameKind } from '../../src/protocol/frame';
import { assertServes, setup, until } from './harness';
import { closedWithin, clientPreface, header, openSession, requestFrame } from './wire';

const MiB = 1024 * 1024;

/** Samples `read()` every 10 ms for `ms` and returns the largest value seen. */
async function peakOver(ms: number, read: () => number): Promise<number> {
  let peak = read();
  const stopAt = Date.now() + ms;
  while (Date.now() < stopAt) {
    await new Promise((r) => setTimeout(r, 10));
    peak = Math.max(peak, read());
  }
  return peak;
}

describe('backpressure: a peer that does not read stops being served, not buffered for', () => {
  test('a client that reads nothing grows the server by at most a few MiB, and other clients are served meanwhile', async (t) => {
    const h = await setup(t);
    const s = await openSession(h.port, h.track);
    s.socket.pause();
    const rssBefore = process.memoryUsage().rss;
    // 2,000 requests for 64 KiB answers: a ~90 KB burst asking for 128 MiB.
    const burst = Buffer.concat(Array.from({ length: 2000 }, (_, i) => requestFrame(i + 1, 'Calculator', 'big', [65536])));
    s.socket.write(burst);
    await until(() => h.server.bufferedBytes > MiB, 'the server to queue answers');
    const peak = await peakOver(500, () => h.server.bufferedBytes);
    assert.ok(peak <= 4 * MiB, `the server held ${peak} bytes for a client that reads nothing`);
    assert.ok(process.memoryUsage().rss - rssBefore < 32 * MiB, 'RSS grew by 32 MiB or more');
    await assertServes(h);
    // Paused, not dropped: once it reads, the answers flow again.
    s.socket.resume();
    await until(() => s.frames().length >= 200, '200 answers once the client reads', 10_000);
    assert.equal(s.socket.destroyed, false);
  });

  test('an outputHighWaterBytes below what the socket buffers by itself pauses reading without stalling the connection', async (t) => {
    // The socket emits 'drain' only after a write it refused; with a mark this low it never refuses one.
    const h = await setup(t, { outputHighWaterBytes: 1 });
    const client = h.client({ defaultTimeoutMs: 5000 });
    for (let round = 0; round < 3; round++) {
      const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call('Calculator', 'add', [i, round])));
      assert.deepEqual(
        sums,
        Array.from({ length: 50 }, (_, i) => i + round),
      );
    }
  });

  test('maxConcurrentCalls: calls beyond the limit wait unread and run as earlier ones end', async (t) => {
    const h = await setup(t, { maxConcurrentCalls: 4 });
    const s = await openSession(h.port, h.track);
    s.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => requestFrame(i + 1, 'Calculator', 'held', []))));
    await until(() => h.server.inFlight === 4, 'four calls running');
    assert.equal(await peakOver(200, () => h.server.inFlight), 4, 'more than 4 calls ran at once');
    for (let round = 0; round < 5 && s.frames().length < 10; round++) {
      h.calc.release();
      await until(() => h.server.inFlight > 0 || s.frames().length === 10, 'the next calls to start');
    }
    await until(() => s.frames().length === 10, 'all ten answers');
    assert.deepEqual(
      s
        .frames()
        .map((f) => f.id)
        .sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  test('a trickling reader (a few bytes at a time) is dropped by the write timeout', async (t) => {
    const h = await setup(t, { writeTimeoutMs: 300 });
    const requests = Buffer.concat(Array.from({ length: 200 }, (_, i) => requestFrame(i + 1, 'Calculator', 'big', [65536])));
    // A real reader in another process, with a small receive buffer, taking 64 bytes every 20 ms.
    const script = [
      'import socket, sys, time',
      's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
      `s.connect(("127.0.0.1", ${h.port})); s.sendall(bytes.fromhex(sys.argv[1])); s.sendall(sys.stdin.buffer.read())`,
      'got, until = 0, time.time() + 6',
      'while time.time() < until:',
      '    try: b = s.recv(64)',
      '    except OSError: break',
      '    if not b: break',
      '    got += len(b); time.sleep(0.02)',
      'print(got)',
    ].join('\n');
    const child = spawn('python3', ['-c', script, clientPreface().toString('hex')], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.after(() => child.kill());
    child.stdin.end(requests);
    child.stdout.resume();
    const started = Date.now();
    await until(() => h.clientErrors.some((e) => /write timeout/.test(e.err.message)), 'the write timeout', 6000);
    // Dropped while it still had megabytes to read: 64 bytes per 20 ms would take over a minute.
    assert.ok(Date.now() - started < 6000);
    await until(() => h.server.connectionCount === 0, 'the trickler to be gone');
    await assertServes(h);
  });
});

describe('incomplete frames: stall timeout and the server-wide budget', () => {
  test('answers counted in the server-wide budget are released once written, also when the socket never needed a drain', async (t) => {
    const h = await setup(t);
    const client = h.client();
    for (let i = 0; i < 20; i++) assert.equal(((await client.call('Calculator', 'big', [1000])) as string).length, 1000);
    // Idle connections must not keep phantom bytes: 1,000 of them would otherwise fill the budget.
    await until(() => h.server.bufferedBytes === 0, 'the budget to be back to 0 with the client idle', 3000);
  });

  test('16 peers holding all but the last byte of a frame stay within the budget and are all dropped', async (t) => {
    const limit = MiB;
    const budget = 4 * MiB;
    const stallMs = 1000;
    const h = await setup(t, { maxFrameBytes: limit, maxBufferedBytes: budget, frameStallTimeoutMs: stallMs });
    const peers = await Promise.all(Array.from({ length: 16 }, () => openSession(h.port, h.track)));
    const sentAt = Date.now();
    for (const p of peers) p.socket.write(Buffer.concat([header(FrameKind.REQUEST, 1, limit), Buffer.alloc(limit - 1, 0x20)]));
    const closed = Promise.all(peers.map((p) => closedWithin(p, 8000)));
    let done = false;
    void closed.then(
      () => (done = true),
      () => (done = true),
    );
    let peak = 0;
    let servedDuring = false;
    while (!done) {
      peak = Math.max(peak, h.server.bufferedBytes);
      if (!servedDuring && peak > budget / 2) {
        await assertServes(h); // a client with small calls is served while the budget is spent
        servedDuring = !done;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(servedDuring, 'no call was served while the peers held the budget');
    await closed;
    // Bytes read after a budget pause must not reset the clock: all go in one round, not one round per release.
    const tookMs = Date.now() - sentAt;
    assert.ok(tookMs < 2 * stallMs + 1000, `the last peer was dropped after ${tookMs} ms`);
    assert.ok(peak > budget / 2, `the budget was never approached (peak ${peak})`);
    assert.ok(peak <= budget + 16 * 128 * 1024, `the server held ${peak} bytes, over its budget of ${budget}`);
    await until(() => h.server.bufferedBytes === 0, 'the bytes held to be released', 3000);
    assert.ok(h.clientErrors.some((e) => /frame stall timeout/.test(e.err.message)));
    await assertServes(h);
  });
});
