import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Method, RpcServer, Service } from '../src/index';
import { jsonCodec } from '../src/codec/json-codec';
import { encodePreface, FRAME_HEADER_BYTES, FrameKind, PROTOCOL_VERSION, PrefaceStatus } from '../src/protocol/frame';
import { writeHeader } from '../src/protocol/frame-writer';
import { encodeRequest } from '../src/protocol/request';

/**
 * `node dist/bench/limits.js`: the exhaustion scenarios of docs/LIMITS.md against a server in its own process,
 * with default options. Prints the server's RSS growth (peak over the scenario, against its RSS before) and its
 * own count of buffered bytes, and how long 16 stalled partial frames take to be dropped.
 */

const MiB = 1024 * 1024;

@Service('Big')
class Big {
  @Method() sync(bytes: number): string {
    return 'x'.repeat(bytes);
  }

  @Method() async later(bytes: number): Promise<string> {
    await new Promise((r) => setImmediate(r));
    return 'x'.repeat(bytes);
  }
}

interface Stats {
  rss: number;
  bufferedBytes: number;
  connections: number;
}

async function serve(): Promise<void> {
  const server = new RpcServer().register(new Big());
  const { port } = await server.listen(0);
  process.on('message', () =>
    process.send?.({ rss: process.memoryUsage().rss, bufferedBytes: server.bufferedBytes, connections: server.connectionCount }),
  );
  process.send?.({ port });
}

function frame(kind: FrameKind, id: number, payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const out = Buffer.alloc(FRAME_HEADER_BYTES + body.length);
  writeHeader(out, 0, body.length, kind, id);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

const preface = (): Buffer =>
  encodePreface({ version: PROTOCOL_VERSION, codec: jsonCodec.id, status: PrefaceStatus.OK, maxFrameBytes: 16 * MiB });

function ask(child: ChildProcess): Promise<Stats> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Stats));
    child.send('stats');
  });
}

/** Samples the server every 20 ms for `ms`; returns the peaks. */
async function peaks(child: ChildProcess, ms: number, stop: () => boolean = () => false): Promise<Stats> {
  const peak: Stats = { rss: 0, bufferedBytes: 0, connections: 0 };
  const until = Date.now() + ms;
  while (Date.now() < until && !stop()) {
    const s = await ask(child);
    peak.rss = Math.max(peak.rss, s.rss);
    peak.bufferedBytes = Math.max(peak.bufferedBytes, s.bufferedBytes);
    await new Promise((r) => setTimeout(r, 20));
  }
  return peak;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => undefined);
  });
}

async function nonReader(child: ChildProcess, port: number, method: 'sync' | 'later'): Promise<void> {
  const before = await ask(child);
  const socket = await open(port);
  socket.pause();
  const burst = Buffer.concat(
    Array.from({ length: 2000 }, (_, i) =>
      frame(FrameKind.REQUEST, i + 1, jsonCodec.encode(encodeRequest('Big', method, [65536], 30_000)) as string),
    ),
  );
  socket.write(Buffer.concat([preface(), burst]));
  const peak = await peaks(child, 3000);
  console.log(
    `non-reader, 2,000 x 64 KiB answers (${method === 'sync' ? 'synchronous' : 'asynchronous'} handler, ${(burst.length / 1000).toFixed(0)} KB sent): ` +
      `server RSS +${((peak.rss - before.rss) / MiB).toFixed(1)} MiB, bufferedBytes peak ${(peak.bufferedBytes / MiB).toFixed(1)} MiB`,
  );
  socket.destroy();
}

async function hogs(child: ChildProcess, port: number): Promise<void> {
  const before = await ask(child);
  const body = Buffer.alloc(16 * MiB - 1, 0x20);
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  writeHeader(head, 0, 16 * MiB, FrameKind.REQUEST, 1);
  const started = Date.now();
  let closed = 0;
  let lastClosedMs = 0;
  for (let i = 0; i < 16; i++) {
    const socket = await open(port);
    socket.resume(); // reads, so that a close from the server is seen at once
    socket.on('close', () => {
      closed++;
      lastClosedMs = Date.now() - started;
    });
    socket.write(Buffer.concat([preface(), head]));
    socket.write(body);
  }
  const peak = await peaks(child, 20_000, () => closed === 16);
  console.log(
    `16 peers each holding all but the last byte of a 16 MiB frame: ${closed} of 16 closed, the last after ${(lastClosedMs / 1000).toFixed(1)} s; ` +
      `server RSS +${((peak.rss - before.rss) / MiB).toFixed(1)} MiB, bufferedBytes peak ${(peak.bufferedBytes / MiB).toFixed(1)} MiB`,
  );
}

async function main(): Promise<void> {
  if (process.env.MYRPC_LIMITS_SERVER === '1') return serve();
  const child = fork(__filename, [], { env: { ...process.env, MYRPC_LIMITS_SERVER: '1' } });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
  try {
    await nonReader(child, port, 'sync');
    await nonReader(child, port, 'later');
    await hogs(child, port);
  } finally {
    child.kill();
  }
}

void main();
