import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import 'reflect-metadata';
import { Method, RpcClient, RpcServer, Service, type ServiceProxy } from '../../src/index';
import { FrameKind, PREFACE_BYTES } from '../../src/protocol/frame';
import { clientPreface, parseFrames, requestFrame } from '../server/wire';
import { until } from '../server/harness';

/**
 * When frames leave: a lone call, and the answers to a chunk of requests, go out as soon as the current
 * callback's promise jobs have run (not at the end of the event-loop turn), in one write; with other calls in
 * flight, requests issued in one turn still share one write at its end.
 */

@Service('Timing')
class TimingService {
  @Method()
  add(a: number, b: number): number {
    return a + b;
  }

  @Method()
  async addAsync(a: number, b: number): Promise<number> {
    return a + b;
  }

  @Method()
  async later(ms: number): Promise<number> {
    await sleep(ms);
    return ms;
  }
}

/** Records, for every `write` a socket is handed, the phase the test had marked when it happened. */
function recordWrites(socket: Socket, phase: () => string): string[] {
  const writes: string[] = [];
  const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    writes.push(phase());
    return write(...args);
  }) as typeof socket.write;
  return writes;
}

async function clientWithRecordedWrites(port: number): Promise<{ client: RpcClient; writes: string[]; mark: (p: string) => void }> {
  let phase = 'idle';
  let writes: string[] = [];
  const client = new RpcClient({
    host: '127.0.0.1',
    port,
    createConnection: (o) => {
      const socket = connect(o);
      writes = recordWrites(socket, () => phase);
      return socket;
    },
  });
  await client.connect();
  return {
    client,
    get writes() {
      return writes;
    },
    mark: (p: string) => (phase = p),
  };
}

/** A server of TimingService, and a client to it whose socket writes are recorded; both closed after the test. */
async function timingClient(
  t: TestContext,
): Promise<{ c: Awaited<ReturnType<typeof clientWithRecordedWrites>>; proxy: ServiceProxy<TimingService> }> {
  const server = new RpcServer();
  server.register(new TimingService());
  const { port } = await server.listen(0, '127.0.0.1');
  t.after(() => server.close({ graceMs: 100 }));
  const c = await clientWithRecordedWrites(port);
  t.after(() => c.client.close());
  return { c, proxy: c.client.proxy(TimingService) };
}

test('a lone call is written before the event-loop turn that made it ends', async (t) => {
  const { c, proxy } = await timingClient(t);
  const before = c.writes.length; // the preface
  for (let i = 0; i < 5; i++) {
    c.mark('call');
    setImmediate(() => c.mark('check phase'));
    assert.equal(await proxy.add(i, 1), i + 1);
  }
  assert.deepEqual(c.writes.slice(before), ['call', 'call', 'call', 'call', 'call'], 'each request went out before the check phase');
});

test('calls started together from idle go out in one write; with calls in flight, the requests of one turn share one write', async (t) => {
  const { c, proxy } = await timingClient(t);
  let before = c.writes.length;
  c.mark('together');
  const sums = await Promise.all([proxy.add(1, 1), proxy.add(2, 2), proxy.add(3, 3)]);
  assert.deepEqual(sums, [2, 4, 6]);
  assert.deepEqual(c.writes.slice(before), ['together'], 'three requests, one write');

  const slow = proxy.later(300); // one call in flight
  await until(() => c.writes.length > before + 1, 'the slow request written');
  before = c.writes.length;
  c.mark('burst');
  setImmediate(() => c.mark('check phase'));
  const burst = Promise.all(Array.from({ length: 10 }, (_, i) => proxy.add(i, i)));
  assert.deepEqual(
    await burst,
    Array.from({ length: 10 }, (_, i) => 2 * i),
  );
  assert.deepEqual(c.writes.slice(before), ['check phase'], 'ten requests beside a call in flight: one write at the end of the turn');
  assert.equal(await slow, 300);
});

for (const method of ['add', 'addAsync']) {
  test(`the answers to a chunk of requests for ${method === 'add' ? 'synchronous handlers' : 'async handlers with nothing to wait for'} go out in one write, before the turn ends`, async (t) => {
    const server = new RpcServer();
    server.register(new TimingService());
    let phase = 'idle';
    let writes: string[] = [];
    const listener = createServer((socket) => {
      writes = recordWrites(socket, () => phase);
      socket.on('data', () => {
        phase = 'data';
        setImmediate(() => (phase = 'check phase'));
      }); // added before the server's own listener, so it marks the phase first
      server.handleSocket(socket);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      await server.close({ graceMs: 100 });
      listener.close();
    });
    const raw = connect((listener.address() as AddressInfo).port, '127.0.0.1');
    t.after(() => raw.destroy());
    const received: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => received.push(chunk));
    raw.write(clientPreface());
    await until(() => Buffer.concat(received).length >= PREFACE_BYTES, 'the preface answer');
    const before = writes.length;
    raw.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => requestFrame(i + 1, 'Timing', method, [i, 1]))));
    const answers = (): ReturnType<typeof parseFrames> => parseFrames(Buffer.concat(received).subarray(PREFACE_BYTES));
    await until(() => answers().length === 20, '20 answers');
    assert.deepEqual(
      answers().map((f) => [f.kind, f.id, f.payload.toString()]),
      Array.from({ length: 20 }, (_, i) => [FrameKind.RESPONSE, i + 1, String(i + 1)]),
    );
    // The 20 frames arrive in one chunk here (one write of about 1 KiB on loopback), so one write answers them.
    assert.deepEqual(writes.slice(before), ['data'], 'one write, made before the check phase');
  });
}
