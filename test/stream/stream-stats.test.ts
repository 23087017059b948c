import 'reflect-metadata';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import {
  Ctx,
  DESCRIBE_SERVICE,
  type RpcClient,
  Method,
  RpcCode,
  Service,
  withOptions,
  type CallContext,
  type ServiceProxy,
} from '../../src/index';
import type { MethodSnapshot } from '../../src/http/debug-snapshot';
import { startServer, type Started } from '../helpers/servers';
import { rejection, until } from '../helpers/wait';

const ITEMS_EACH = 3;
const STREAMS = 6;
const WAIT_MS = 5000;

@Service('Ticker')
class Ticker {
  /** `k` items, then nothing until the stream is stopped from outside (cancel, deadline, connection loss). */
  @Method() async *hold(k: number, @Ctx() ctx: CallContext): AsyncGenerator<number> {
    for (let i = 0; i < k; i++) yield i;
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  @Method() async *failAfter(k: number): AsyncGenerator<number> {
    for (let i = 0; i < k; i++) yield i;
    throw new Error('the source broke');
  }

  @Method() ping(): string {
    return 'pong';
  }
}

let s: Started;
let client: RpcClient;
let ticker: ServiceProxy<Ticker>;
let httpPort: number;

before(async () => {
  s = await startServer([new Ticker()]);
  client = s.client();
  ticker = client.proxy(Ticker);
  httpPort = (await s.server.listenHttp(0, '127.0.0.1')).port;
});
after(() => s.stop());

function figures(method: string): MethodSnapshot {
  const m = s.server.debugSnapshot().methods.find((x) => x.service === 'Ticker' && x.method === method);
  assert.ok(m, `no snapshot row for Ticker.${method}`);
  return m;
}

/** Opens a `hold` stream and takes its first `ITEMS_EACH` items; the stream stays open on the server. */
async function openHeld(proxy: ServiceProxy<Ticker>): Promise<AsyncIterator<number>> {
  const it = proxy.hold(ITEMS_EACH)[Symbol.asyncIterator]();
  for (let i = 0; i < ITEMS_EACH; i++) assert.deepEqual(await it.next(), { value: i, done: false });
  return it;
}

async function backToZero(method: string, what: string): Promise<void> {
  await until(() => figures(method).streamsOpen === 0, WAIT_MS, `Ticker.${method} to have no open stream after ${what}`);
  assert.equal(s.server.debugSnapshot().server.streams.open, 0, `server-wide open streams after ${what}`);
}

test('open streams and items sent are counted per method and in total, and go back to 0 as streams end', async () => {
  const before = figures('hold');
  const its = await Promise.all(Array.from({ length: STREAMS }, () => openHeld(ticker)));
  const during = figures('hold');
  assert.equal(during.kind, 'server');
  assert.equal(during.streamsOpen, STREAMS);
  assert.equal(during.streamsOpened - before.streamsOpened, STREAMS);
  assert.equal(during.itemsSent - before.itemsSent, STREAMS * ITEMS_EACH);
  assert.equal(during.itemsReceived, 0, 'a server stream receives no items');
  assert.equal(s.server.debugSnapshot().server.streams.open, STREAMS);
  assert.equal(client.streamCount, STREAMS, 'the client counts its open streams too');
  await Promise.all(its.map((it) => it.return?.()));
  assert.equal(client.streamCount, 0, 'the client forgets a stream its consumer left');
  await backToZero('hold', 'every consumer left its loop');
});

test('a unary method is kind unary with no stream figures, and describe marks streaming methods', async () => {
  await ticker.ping();
  const ping = figures('ping');
  assert.deepEqual([ping.kind, ping.streamsOpen, ping.streamsOpened, ping.itemsSent], ['unary', 0, 0, 0]);
  const d = (await s.client().call(DESCRIBE_SERVICE, 'describe', ['Ticker'])) as { methods: { name: string; kind: string }[] };
  assert.deepEqual(
    d.methods.map((m) => [m.name, m.kind]),
    [
      ['hold', 'server'],
      ['failAfter', 'server'],
      ['ping', 'unary'],
    ],
  );
});

test('the open-stream count goes back to 0 after an AbortSignal cancels the stream', async () => {
  const abort = new AbortController();
  const it = await openHeld(withOptions(ticker, { signal: abort.signal }));
  assert.equal(figures('hold').streamsOpen, 1);
  abort.abort();
  assert.equal((await rejection(it.next())).code, RpcCode.CANCELLED);
  assert.equal(client.streamCount, 0);
  await backToZero('hold', 'a cancel by signal');
});

test('the open-stream count goes back to 0 after the deadline passes mid-stream', async () => {
  const it = await openHeld(withOptions(ticker, { timeoutMs: 200 }));
  assert.equal(figures('hold').streamsOpen, 1);
  assert.equal((await rejection(it.next())).code, RpcCode.DEADLINE_EXCEEDED);
  assert.equal(client.streamCount, 0);
  await backToZero('hold', 'the deadline');
});

test('the open-stream count goes back to 0 after the generator throws, its items counted', async () => {
  const sentBefore = figures('failAfter').itemsSent;
  const got: number[] = [];
  const err = await rejection(
    (async () => {
      for await (const x of ticker.failAfter(4)) got.push(x);
    })(),
  );
  assert.equal(err.code, RpcCode.INTERNAL);
  assert.deepEqual(got, [0, 1, 2, 3]);
  const after = figures('failAfter');
  assert.equal(after.itemsSent - sentBefore, 4);
  assert.equal(after.streamsOpen, 0);
  assert.equal(after.codes.INTERNAL, 1);
  assert.equal(client.streamCount, 0);
});

test('the open-stream count goes back to 0 after the connection is lost mid-stream', async () => {
  const sockets: Socket[] = [];
  const client = s.client({
    createConnection: (o) => {
      const socket = connect(o);
      sockets.push(socket);
      return socket;
    },
  });
  const its = await Promise.all([1, 2].map(() => openHeld(client.proxy(Ticker))));
  assert.equal(figures('hold').streamsOpen, 2);
  for (const socket of sockets) socket.destroy();
  for (const it of its) assert.equal((await rejection(it.next())).code, RpcCode.UNAVAILABLE);
  await backToZero('hold', 'the connection was lost');
});

test('/metrics exposes open streams, streams opened and items sent and received per streaming method', async () => {
  const it = await openHeld(ticker);
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const sample = (name: string, method: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{service="Ticker",method="${method}"} `));
    assert.ok(line, `no ${name} sample for Ticker.${method} in /metrics:\n${text}`);
    return Number(line.split(' ')[1]);
  };
  const hold = figures('hold');
  assert.equal(sample('myrpc_streams_open', 'hold'), 1);
  assert.equal(sample('myrpc_streams_opened_total', 'hold'), hold.streamsOpened);
  assert.equal(sample('myrpc_stream_items_sent_total', 'hold'), hold.itemsSent);
  assert.equal(sample('myrpc_stream_items_received_total', 'hold'), 0);
  assert.match(text, /# TYPE myrpc_streams_open gauge\n/);
  assert.match(text, /# TYPE myrpc_stream_items_sent_total counter\n/);
  assert.ok(!text.includes('myrpc_streams_open{service="Ticker",method="ping"}'), 'unary methods have no stream samples');
  await it.return?.();
  await backToZero('hold', 'the consumer left');
  const later = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  assert.match(later, /^myrpc_streams_open\{service="Ticker",method="hold"\} 0$/m);
});

test('a stream over HTTP (NDJSON) is counted, and a client that disconnects brings the count back to 0', async () => {
  const sentBefore = figures('hold').itemsSent;
  const abort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${httpPort}/rpc/Ticker/hold`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([ITEMS_EACH]),
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (text.split('\n').length <= ITEMS_EACH) text += new TextDecoder().decode((await reader.read()).value);
  assert.equal(figures('hold').streamsOpen, 1);
  assert.equal(figures('hold').itemsSent - sentBefore, ITEMS_EACH);
  abort.abort();
  await backToZero('hold', 'the HTTP client disconnected');
});

@Service('Sink')
class Sink {
  @Method({ stream: 'client', params: [Number] })
  async sum(items: AsyncIterable<number>): Promise<number> {
    let total = 0;
    for await (const x of items) total += x;
    return total;
  }

  @Method({ stream: 'bidi', params: [Number] })
  async *doubled(items: AsyncIterable<number>): AsyncGenerator<number> {
    for await (const x of items) yield x * 2;
  }
}

test('client and bidi streams count the items received, open while running, and back to 0 when done', async () => {
  const sink = await startServer([new Sink()]);
  try {
    const proxy = sink.client().proxy(Sink);
    const row = (method: string): MethodSnapshot => {
      const m = sink.server.debugSnapshot().methods.find((x) => x.service === 'Sink' && x.method === method);
      assert.ok(m, `no row for Sink.${method}`);
      return m;
    };
    assert.equal(await proxy.sum([1, 2, 3, 4]), 10);
    assert.deepEqual([row('sum').kind, row('sum').itemsReceived, row('sum').streamsOpened, row('sum').streamsOpen], ['client', 4, 1, 0]);
    const got: number[] = [];
    for await (const x of proxy.doubled([1, 2, 3])) got.push(x);
    assert.deepEqual(got, [2, 4, 6]);
    await until(() => row('doubled').streamsOpen === 0, WAIT_MS, 'the bidi stream to end');
    const d = row('doubled');
    assert.deepEqual([d.kind, d.itemsReceived, d.itemsSent, d.streamsOpened], ['bidi', 3, 3, 1]);
    assert.equal(sink.server.debugSnapshot().server.streams.itemsReceived, 7);
  } finally {
    await sink.stop();
  }
});
