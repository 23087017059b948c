import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import { benchTls } from './tls-material';
import { RawFrameReader, RawFrameWriter } from './raw-framing';
import { LOOPBACK, type BenchClient } from './workloads';
import type { BenchServer } from './systems';

/**
 * The baseline: length-prefixed JSON over `node:net`. A request is `{"id":1,"m":"add","a":[1234,5678]}`;
 * the server parses it, runs the method (a + b, or returns the string) and answers `{"id":1,"result":…}`.
 */

interface RawRequest {
  id: number;
  m: string;
  a: unknown[];
}

function answer(req: RawRequest): unknown {
  if (req.m === 'add') return (req.a[0] as number) + (req.a[1] as number);
  if (req.m === 'echo') return req.a[0];
  throw new Error(`raw server: unknown method ${req.m}`);
}

/** `tls`: the same echo over node:tls, the baseline of MyRPC over TLS. */
export async function startRawServer(tls: boolean): Promise<BenchServer> {
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket): void => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const writer = new RawFrameWriter(socket);
    const reader = new RawFrameReader((json) => {
      const req = JSON.parse(json) as RawRequest;
      writer.write(JSON.stringify({ id: req.id, result: answer(req) }));
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = tls ? createTlsServer(benchTls(), onSocket) : createServer(onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** One connection, many calls in flight, answers matched by id. */
export class RawClient implements BenchClient {
  private readonly pending = new Map<number, Waiter>();
  private nextId = 0;
  private readonly writer: RawFrameWriter;

  private constructor(private readonly socket: Socket) {
    this.writer = new RawFrameWriter(socket);
    const reader = new RawFrameReader((json) => this.onAnswer(json));
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('close', () => this.failAll(new Error('raw connection closed')));
  }

  static open(port: number, tls: boolean): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls ? connectTls({ host: LOOPBACK, port, ca: benchTls().ca }) : connect({ host: LOOPBACK, port, noDelay: true });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(new RawClient(socket));
      });
    });
  }

  add(a: number, b: number): Promise<number> {
    return this.call('add', [a, b]) as Promise<number>;
  }

  echo(s: string): Promise<string> {
    return this.call('echo', [s]) as Promise<string>;
  }

  async close(): Promise<void> {
    this.socket.destroy();
  }

  private call(m: string, a: unknown[]): Promise<unknown> {
    const id = (this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.writer.write(JSON.stringify({ id, m, a }));
    });
  }

  private onAnswer(json: string): void {
    const msg = JSON.parse(json) as { id: number; result: unknown };
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    waiter.resolve(msg.result);
  }

  private failAll(err: Error): void {
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
  }
}
