import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls } from 'node:tls';
import { clientTlsOptions, type TlsClientOptions } from './tls-options';

/** Where a client connects to. */
export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * Opens a byte stream to a server: resolves with a connected `Duplex` (for TLS, once the server's certificate
 * is verified), rejects with the reason it could not. When `signal` aborts first (the connect timeout, or the
 * client closing) it must give up and destroy what it opened; a stream it still resolves with is destroyed.
 */
export type Connector = (target: ConnectTarget, signal: AbortSignal) => Promise<Duplex>;

/** Opens the socket; the default is `net.connect`. Plug in TLS, a Unix socket, or a test double here. */
export type CreateConnection = (options: { host: string; port: number }) => Socket;

/** Plain TCP, Nagle off. */
export function tcpConnector(): Connector {
  return (target, signal) => untilEvent(connect({ host: target.host, port: target.port, noDelay: true }), 'connect', signal);
}

/** TLS over TCP: connected once the handshake has verified the server (and, for mTLS, sent our certificate). */
export function tlsConnector(tls: TlsClientOptions): Connector {
  return (target, signal) => untilEvent(connectTls(clientTlsOptions(tls, target.host, target.port)), 'secureConnect', signal);
}

/** A `createConnection` function (a `net.Socket` that emits `connect`) as a Connector. */
export function socketConnector(create: CreateConnection): Connector {
  return (target, signal) => {
    const socket = create({ host: target.host, port: target.port });
    socket.setNoDelay?.(true);
    return untilEvent(socket, 'connect', signal);
  };
}

/** Resolves with `stream` once it emits `event`; rejects on its error or close before that, or on abort. */
export function untilEvent(stream: Duplex, event: string, signal: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off(event, onReady);
      stream.off('error', onError);
      stream.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onReady = (): void => {
      cleanup();
      // The connection takes the stream a microtask later: an error emitted in between must not crash the process.
      stream.on('error', () => undefined);
      resolve(stream);
    };
    const onError = (err: Error): void => {
      cleanup();
      stream.destroy();
      reject(err);
    };
    const onClose = (): void => onError(Object.assign(new Error('closed before it connected'), { code: 'ECONNRESET' }));
    const onAbort = (): void => onError(signal.reason as Error);
    if (signal.aborted) return onAbort();
    stream.once(event, onReady);
    stream.once('error', onError);
    stream.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
