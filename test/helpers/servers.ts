import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { RpcClient, RpcServer, type RpcClientOptions, type RpcServerOptions } from '../../src/index';

export interface Started {
  server: RpcServer;
  port: number;
  client(options?: Partial<RpcClientOptions>): RpcClient;
  /** Closes every client made by `client()` and the server. */
  stop(): Promise<void>;
}

/** A real server on 127.0.0.1, port 0, with the given service instances. */
export async function startServer(services: object[], options: RpcServerOptions = {}): Promise<Started> {
  const server = new RpcServer(options);
  for (const s of services) server.register(s);
  const { port } = await server.listen(0, '127.0.0.1');
  const clients: RpcClient[] = [];
  return {
    server,
    port,
    client(opts = {}) {
      const c = new RpcClient({ port, host: '127.0.0.1', ...opts });
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close({ graceMs: 100 });
    },
  };
}

/** A raw TCP socket to the server, collecting everything it receives. */
export interface RawPeer {
  socket: Socket;
  received(): Buffer;
  /** Resolves when the server has closed the connection, with everything received. */
  closed: Promise<Buffer>;
  /** Resolves once at least `n` bytes have arrived (or the socket closed). */
  waitFor(n: number, timeoutMs?: number): Promise<Buffer>;
}

export function rawConnect(port: number): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let waiters: (() => void)[] = [];
    const wake = (): void => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    };
    const closed = new Promise<Buffer>((res) =>
      socket.on('close', () => {
        wake();
        res(Buffer.concat(chunks));
      }),
    );
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      wake();
    });
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => Buffer.concat(chunks),
        closed,
        waitFor(n, timeoutMs = 5000) {
          return new Promise((res, rej) => {
            const until = Date.now() + timeoutMs;
            const check = (): void => {
              const all = Buffer.concat(chunks);
              if (all.length >= n || socket.destroyed) return res(all);
              if (Date.now() > until) return rej(new Error(`timed out waiting for ${n} bytes (have ${all.length})`));
              waiters.push(check);
              setTimeout(check, 50).unref();
            };
            check();
          });
        },
      }),
    );
    socket.once('error', reject);
  });
}

/** A port on 127.0.0.1 nothing listens on: bound once, then released (another process could take it, rarely). */
export async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A TCP relay on 127.0.0.1 in front of `targetPort` whose answers can be muted: the server works on, its client hears nothing. */
export interface MutingRelay {
  port: number;
  /** While true, bytes from the server to its clients are dropped. */
  muted: boolean;
  close(): Promise<void>;
}

export async function mutingRelay(targetPort: number): Promise<MutingRelay> {
  const sockets = new Set<Socket>();
  const relay: MutingRelay = { port: 0, muted: false, close: async () => undefined };
  const server = createNetServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (inbound.destroy(), outbound.destroy()));
    }
    inbound.on('data', (c) => outbound.write(c));
    outbound.on('data', (c) => relay.muted || inbound.write(c));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as AddressInfo).port;
  relay.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return relay;
}
