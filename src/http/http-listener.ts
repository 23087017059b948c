import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { Logger } from '../observability/logger';
import { dropAndReport } from '../transport/listener';
import { DEFAULT_HTTP_MAX_BODY_BYTES, HttpGateway, type GatewayHost } from './http-gateway';

export interface HttpListenerOptions {
  /** What the gateway needs from its server; `maxBodyBytes` defaults to 1 MiB. */
  gateway: Omit<GatewayHost, 'maxBodyBytes'> & { maxBodyBytes?: number };
  /** HTTPS with these options; plain HTTP without. */
  tls: TlsOptions | undefined;
  logger: Logger;
  onTlsError(err: Error, socket: TLSSocket): void;
}

const MALFORMED_ANSWER =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nmalformed HTTP request; this port serves MyRPC over HTTP (POST /rpc/<Service>/<method>)\n';

/**
 * The server's HTTP port: an HTTP (or HTTPS) listener in front of the gateway. It hands CONNECT tunnels to
 * the server as sockets and runs calls through the server's method table; it is not part of the server.
 */
export class HttpListener {
  private readonly http: HttpServer;

  constructor(private readonly options: HttpListenerOptions) {
    const gateway = new HttpGateway({ ...options.gateway, maxBodyBytes: options.gateway.maxBodyBytes ?? DEFAULT_HTTP_MAX_BODY_BYTES });
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => gateway.handle(req, res);
    this.http = options.tls ? createHttpsServer(options.tls, onRequest) : createHttpServer(onRequest);
    if (options.tls) this.http.on('tlsClientError', (err: Error, socket: TLSSocket) => dropAndReport(err, socket, options.onTlsError));
    this.http.on('connect', (req, socket, head) => gateway.handleConnect(req, socket, head));
    this.http.on('clientError', (err, socket) => {
      options.logger.warn({ err }, 'malformed HTTP request');
      if (socket.writable) socket.end(MALFORMED_ANSWER);
      else socket.destroy();
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    const http = this.http;
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        const address = http.address() as AddressInfo;
        this.options.logger.info({ address: address.address, port: address.port }, 'myrpc http listening');
        resolve(address);
      });
    });
  }

  address(): AddressInfo | undefined {
    return (this.http.address() as AddressInfo | null) ?? undefined;
  }

  /** Stops accepting; resolves once every connection has closed (see `closeAllConnections`). */
  close(): Promise<void> {
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  closeAllConnections(): void {
    this.http.closeAllConnections();
  }
}
