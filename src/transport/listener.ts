import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';

/**
 * The server side of a transport: a TCP listener, or a TLS one when `tls` is given, handing each connected
 * socket (for TLS, once its handshake succeeded) to `onSocket`. `onTlsError` hears of failed handshakes; the
 * peer is already dropped then.
 */
export function createListener(
  tls: TlsOptions | undefined,
  onSocket: (socket: Socket) => void,
  onTlsError: (err: Error, socket: TLSSocket) => void,
): Server {
  if (!tls) return createServer(onSocket);
  const server = createTlsServer(tls, onSocket);
  server.on('tlsClientError', (err, socket) => dropAndReport(err, socket, onTlsError));
  return server;
}

/** With a 'tlsClientError' listener node:tls leaves the socket open: a handshake timeout would not drop the peer. */
export function dropAndReport(err: Error, socket: TLSSocket, onTlsError: (err: Error, socket: TLSSocket) => void): void {
  socket.destroy();
  onTlsError(err, socket);
}
