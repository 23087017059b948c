import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import {
  ClusterClient,
  Ctx,
  Method,
  RpcClient,
  RpcServer,
  Service,
  withOptions,
  type CallContext,
  type RpcClientOptions,
  type RpcServerOptions,
} from '../../src/index';
import { jsonCodec } from '../../src/codec/json-codec';
import { msgpackCodec } from '../../src/codec/msgpack-codec';
import { FrameKind, PREFACE_BYTES } from '../../src/protocol/frame';
import { encodeRequest } from '../../src/protocol/request';
import { rawConnect } from '../helpers/servers';
import { assertServes, setup, until } from './harness';
import { clientPreface, frame, parseFrames } from './wire';

const MAX_TIMER_MS = 2 ** 31 - 1;

type Case = [option: string, value: unknown];
const BAD_TIMEOUTS: unknown[] = [NaN, -1, '5000', null];
const POSITIVE_TIMEOUTS = ['handshakeTimeoutMs', 'handleTimeoutMs', 'writeTimeoutMs', 'frameStallTimeoutMs', 'keepaliveTimeoutMs'];
const ZERO_MEANS_OFF = ['keepaliveMs', 'idleTimeoutMs'];

const serverRefused: Case[] = [
  ...POSITIVE_TIMEOUTS.flatMap((o) => [...BAD_TIMEOUTS, 0].map((v): Case => [o, v])),
  ...ZERO_MEANS_OFF.flatMap((o) => BAD_TIMEOUTS.map((v): Case => [o, v])),
  ...[1023, 1024.5, 2 ** 32, Infinity, NaN, -1].map((v): Case => ['maxFrameBytes', v]),
  ...[0, 1.5, NaN, Infinity].map((v): Case => ['outputHighWaterBytes', v]),
  ...[0, -1, 2.5, NaN].map((v): Case => ['maxConcurrentCalls', v]),
  ...[0, NaN].map((v): Case => ['maxBufferedBytes', v]),
  ...[0, NaN].map((v): Case => ['httpMaxBodyBytes', v]),
];

const serverAccepted: Case[] = [
  ...[...POSITIVE_TIMEOUTS, ...ZERO_MEANS_OFF].map((o): Case => [o, Infinity]),
  ...ZERO_MEANS_OFF.map((o): Case => [o, 0]),
  ['maxFrameBytes', 1024],
  ['maxFrameBytes', 2 ** 32 - 1],
  ['maxConcurrentCalls', Infinity],
  ['maxBufferedBytes', Infinity],
];

describe('option validation: a RangeError naming the option', () => {
  for (const [option, value] of serverRefused) {
    test(`new RpcServer({ ${option}: ${String(value)} }) throws a RangeError naming ${option}`, () => {
      assert.throws(
        () => new RpcServer({ [option]: value } as RpcServerOptions),
        (err: Error) => err instanceof RangeError && err.message.startsWith(`${option} must be`),
      );
    });
  }
  for (const [option, value] of serverAccepted) {
    test(`new RpcServer({ ${option}: ${String(value)} }) is accepted`, () => {
      assert.doesNotThrow(() => new RpcServer({ [option]: value } as RpcServerOptions));
    });
  }

  const clientRefused: Case[] = [
    ...[
      'defaultTimeoutMs',
      'connectTimeoutMs',
      'handshakeTimeoutMs',
      'writeTimeoutMs',
      'keepaliveTimeoutMs',
      'frameStallTimeoutMs',
    ].flatMap((o) => [...BAD_TIMEOUTS, 0].map((v): Case => [o, v])),
    ...BAD_TIMEOUTS.map((v): Case => ['keepaliveMs', v]),
    ...[1023, 2 ** 32, Infinity].map((v): Case => ['maxFrameBytes', v]),
    ...[0, NaN].map((v): Case => ['outputHighWaterBytes', v]),
  ];
  for (const [option, value] of clientRefused) {
    test(`new RpcClient({ ${option}: ${String(value)} }) throws a RangeError naming ${option}`, () => {
      assert.throws(
        () => new RpcClient({ port: 1, [option]: value } as RpcClientOptions),
        (err: Error) => err instanceof RangeError && err.message.startsWith(`${option} must be`),
      );
    });
  }

  test('client.ping(NaN) and ping(-1) reject with a RangeError naming timeoutMs', async (t) => {
    const h = await setup(t);
    const client = h.client();
    for (const bad of [NaN, -1, 0]) {
      await assert.rejects(client.ping(bad), (err: Error) => err instanceof RangeError && /^timeoutMs must be/.test(err.message));
    }
    assert.ok((await client.ping(Infinity)) >= 0);
  });

  test('server.close({ graceMs: NaN }) rejects with a RangeError; close() still works after', async () => {
    const server = new RpcServer();
    await assert.rejects(server.close({ graceMs: NaN }), (err: Error) => err instanceof RangeError && /^graceMs must be/.test(err.message));
    await server.close({ graceMs: 0 });
  });
});

@Service('Clock')
class Clock {
  /** Milliseconds left before the deadline the server computed. */
  @Method() left(@Ctx() ctx: CallContext): number {
    return ctx.deadline - Date.now();
  }
}

describe('per-call options and timeoutMs edge values', () => {
  for (const codec of ['json', 'msgpack']) {
    test(`${codec}: timeoutMs NaN, -1 or a string reject with a RangeError, locally; Infinity means no limit (the timer maximum)`, async (t) => {
      const h = await setup(t);
      h.server.register(new Clock());
      const client = h.client({ codec });
      for (const timeoutMs of [NaN, -1, '100']) {
        await assert.rejects(
          client.call('Clock', 'left', [], { timeoutMs: timeoutMs as number }),
          (err: Error) => err instanceof RangeError && /^timeoutMs must be/.test(err.message),
        );
      }
      await assert.rejects(
        client.call('Clock', 'left', [], { deadline: NaN }),
        (err: Error) => err instanceof RangeError && /^deadline must be/.test(err.message),
      );
      for (const options of [{ timeoutMs: Infinity }, { timeoutMs: 1e300 }, { deadline: Infinity }]) {
        const left = (await client.call('Clock', 'left', [], options)) as number;
        assert.ok(left > MAX_TIMER_MS - 60_000 && left <= MAX_TIMER_MS, `${JSON.stringify(options)}: ${left} ms left`);
      }
      assert.equal(h.handlerErrors.length, 0);
      assert.equal(h.clientErrors.length, 0);
    });
  }

  test('a ClusterClient checks timeoutMs and deadline the same way, and Infinity means no limit there too', async (t) => {
    const h = await setup(t);
    h.server.register(new Clock());
    const cluster = new ClusterClient({ endpoints: [{ host: '127.0.0.1', port: h.port }] });
    t.after(() => cluster.close());
    for (const timeoutMs of [NaN, -1]) {
      await assert.rejects(
        withOptions(cluster.proxy(Clock), { timeoutMs }).left(),
        (err: Error) => err instanceof RangeError && /^timeoutMs must be/.test(err.message),
      );
    }
    await assert.rejects(
      withOptions(cluster.proxy(Clock), { deadline: NaN }).left(),
      (err: Error) => err instanceof RangeError && /^deadline must be/.test(err.message),
    );
    const left = await withOptions(cluster.proxy(Clock), { timeoutMs: Infinity }).left();
    assert.ok(left > MAX_TIMER_MS - 60_000 && left <= MAX_TIMER_MS);
  });

  test('a raw REQUEST with timeoutMs Infinity (MessagePack) or 1e999 (JSON) is clamped alike, not refused', async (t) => {
    const h = await setup(t);
    h.server.register(new Clock());
    const answers: number[] = [];
    for (const [codec, payload] of [
      [msgpackCodec, Buffer.from(msgpackCodec.encode(encodeRequest('Clock', 'left', [], Infinity)))],
      [jsonCodec, Buffer.from('["Clock","left",[],1e999]')],
    ] as const) {
      const peer = await rawConnect(h.port);
      h.track(peer);
      peer.socket.write(Buffer.concat([clientPreface({ codec: codec.id }), frame(FrameKind.REQUEST, 1, payload)]));
      await until(() => parseFrames(peer.received().subarray(PREFACE_BYTES)).length > 0, 'the answer');
      const [answer] = parseFrames(peer.received().subarray(PREFACE_BYTES));
      assert.equal(answer.kind, FrameKind.RESPONSE, `${codec.name}: ${answer.payload.toString()}`);
      answers.push(codec.decode(answer.payload) as number);
    }
    for (const left of answers) assert.ok(left > MAX_TIMER_MS - 60_000 && left <= MAX_TIMER_MS);
  });

  test('handshakeTimeoutMs: Infinity on the server drops nobody; writeTimeoutMs: Infinity on the client survives backpressure', async (t) => {
    const h = await setup(t, { handshakeTimeoutMs: Infinity });
    const client = h.client({ writeTimeoutMs: Infinity });
    await assertServes(h, client);
    const big = 'z'.repeat(4 * 1024 * 1024);
    assert.equal(await client.call('Calculator', 'echo', [big], { timeoutMs: 10_000 }), big);
    assert.equal(h.clientErrors.length, 0);
  });
});
