import { Duplex } from 'node:stream';
import type { Connector } from './connector';

/**
 * Two connected in-memory streams: what one writes, the other reads, in order, asynchronously (as a socket
 * would). Ending one ends the other's readable side; destroying one closes both. For deterministic tests of
 * the protocol without sockets; bytes still go through the codecs and frames.
 */
export function memoryPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex | undefined): Duplex =>
    new Duplex({
      allowHalfOpen: false, // like a net.Socket: when the peer ends, end our side too
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        const p = peer();
        if (!p || p.destroyed) return callback(Object.assign(new Error('the other end is closed'), { code: 'EPIPE' }));
        const copy = Buffer.from(chunk); // the writer may reuse its buffer once the callback ran
        setImmediate(() => p.push(copy));
        callback();
      },
      final(callback) {
        setImmediate(() => peer()?.push(null));
        callback();
      },
      destroy(err, callback) {
        const p = peer();
        if (p && !p.destroyed) setImmediate(() => p.destroy());
        callback(err);
      },
    });
  ends.push(
    make(() => ends[1]),
    make(() => ends[0]),
  );
  return [ends[0], ends[1]];
}

/** Something that serves the binary protocol on a connected stream: `RpcServer.handleSocket`. */
export interface StreamAcceptor {
  handleSocket(stream: Duplex): void;
}

/** A Connector whose every connection is an in-memory pair, one end handed to `server`. No socket is opened. */
export function memoryConnector(server: StreamAcceptor): Connector {
  return (_target, signal) => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const [client, serverEnd] = memoryPair();
    server.handleSocket(serverEnd);
    return Promise.resolve(client);
  };
}
