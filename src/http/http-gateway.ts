import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RpcCode, RpcError, toRpcError } from '../errors/rpc-error';
import type { RequestMessage } from '../protocol/request';
import type { MethodTable } from '../server/method-table';
import { ServerCall, type CallOwner } from '../server/server-call';
import { renderDebugPage } from './debug-page';
import { debugSnapshot, type ServerFigures } from './debug-snapshot';
import { renderMetrics } from './metrics';
import { httpStatusOf } from './status-map';
import { TUNNEL_PATH } from '../protocol/tunnel';
import { throughInterceptors, type SurfaceMethod } from './surfaces';
import { peerIdentityOf, type PeerIdentity } from '../transport/peer-identity';
import { HttpStreamOwner } from '../stream/http-stream';

export const DEFAULT_HTTP_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
/**
 * A body over the limit is answered 413, not the table's 429 for RESOURCE_EXHAUSTED: 429 tells HTTP clients
 * and proxies to retry later, and the same body will never fit.
 */
const PAYLOAD_TOO_LARGE = 413;

/** What the gateway needs from its RpcServer. */
export interface GatewayHost {
  readonly table: MethodTable;
  readonly handleTimeoutMs: number;
  readonly maxBodyBytes: number;
  figures(): ServerFigures;
  /** Serve `/debug/myrpc` and its stats JSON. */
  readonly debugPage: boolean;
  /** Serve `/metrics`. */
  readonly metrics: boolean;
  /** Serves the binary protocol on a socket (a CONNECT tunnel). */
  acceptTunnel(socket: Duplex): void;
  onHandlerError(err: unknown, service: string, method: string): void;
}

/**
 * RPC over HTTP on the server's own HTTP port: `POST /rpc/<Service>/<method>` with a JSON array of arguments,
 * the same method table, validation and deadlines as over TCP. Also the debug page, /metrics, /healthz and a
 * CONNECT tunnel to the binary protocol.
 */
export class HttpGateway {
  constructor(private readonly host: GatewayHost) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/rpc/')) return this.rpc(req, res, path);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendError(
        res,
        new RpcError(RpcCode.UNIMPLEMENTED, `${req.method} ${path} is not served here; RPC calls are POST /rpc/<Service>/<method>`),
      );
    switch (path) {
      case '/debug/myrpc':
        return this.page(req, res, 'debugPage', 'text/html; charset=utf-8', () => renderDebugPage());
      case '/debug/myrpc/stats.json':
        return this.page(req, res, 'debugPage', 'application/json', () =>
          JSON.stringify(debugSnapshot(this.host.table, this.host.figures())),
        );
      case '/metrics':
        return this.page(req, res, 'metrics', 'text/plain; version=0.0.4; charset=utf-8', () =>
          renderMetrics(this.host.table, this.host.figures()),
        );
      case '/healthz':
        return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      default:
        return sendError(
          res,
          new RpcError(RpcCode.NOT_FOUND, `no such page: ${path} (try POST /rpc/<Service>/<method>, /debug/myrpc, /metrics)`),
        );
    }
  }

  /** A read-only page: 404 when turned off, else rendered through the server's global interceptors (auth). */
  private page(req: IncomingMessage, res: ServerResponse, surface: SurfaceMethod, type: string, render: () => string): void {
    if (!this.host[surface]) return sendError(res, new RpcError(RpcCode.NOT_FOUND, `${req.url ?? ''} is turned off on this server`));
    throughInterceptors(this.host.table.globalInterceptors(), surface, req, metadataOf(req), render).then(
      (body) => send(res, 200, type, String(body)),
      (err: unknown) => {
        const e = toRpcError(err);
        sendError(res, e);
      },
    );
  }

  /** `CONNECT /myrpc`: answer 200 and speak the binary protocol on the socket from then on. */
  handleConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.url !== TUNNEL_PATH) {
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nCONNECT ${TUNNEL_PATH} opens a MyRPC tunnel\n`,
      );
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    this.host.acceptTunnel(socket);
  }

  private rpc(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== 'POST')
      return sendError(res, new RpcError(RpcCode.UNIMPLEMENTED, 'RPC calls are POST /rpc/<Service>/<method>'), { allow: 'POST' });
    const [service, method, extra] = path.slice('/rpc/'.length).split('/').map(safeDecode);
    if (!service || !method || extra !== undefined)
      return sendError(res, new RpcError(RpcCode.INVALID_ARGUMENT, 'the path must be /rpc/<Service>/<method>'));
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type))
      return sendError(
        res,
        new RpcError(RpcCode.INVALID_ARGUMENT, `the body must be application/json (a JSON array of arguments), got '${type}'`),
      );
    let timeoutMs: number;
    try {
      timeoutMs = parseTimeout(req.headers['x-myrpc-timeout-ms']);
    } catch (err) {
      return sendError(res, err as RpcError);
    }
    readBody(req, this.host.maxBodyBytes).then(
      (body) => this.invoke(req, res, { service, method, args: [], timeoutMs, metadata: metadataOf(req) }, body),
      (err: RpcError) => {
        const status = err.code === RpcCode.RESOURCE_EXHAUSTED ? PAYLOAD_TOO_LARGE : httpStatusOf(err.code);
        sendError(res, err, { connection: 'close' }, status);
        req.resume();
      },
    );
  }

  private invoke(req: IncomingMessage, res: ServerResponse, request: RequestMessage, body: Buffer): void {
    let args: unknown;
    try {
      args = body.length === 0 ? [] : JSON.parse(body.toString('utf8'));
    } catch (err) {
      return sendError(res, new RpcError(RpcCode.INVALID_ARGUMENT, `the body is not valid JSON: ${(err as Error).message}`));
    }
    if (!Array.isArray(args)) return sendError(res, new RpcError(RpcCode.INVALID_ARGUMENT, 'the body must be a JSON array of arguments'));
    let entry;
    try {
      entry = this.host.table.lookup(request.service, request.method);
    } catch (err) {
      return sendError(res, err as RpcError);
    }
    if (entry.input) {
      const why = `${request.service}.${request.method} is a ${entry.kind} stream, which HTTP does not carry; call it over TCP`;
      return sendError(res, new RpcError(RpcCode.UNIMPLEMENTED, why));
    }
    if (entry.stream) {
      const host = {
        handleTimeoutMs: this.host.handleTimeoutMs,
        onHandlerError: this.host.onHandlerError.bind(this.host),
        sendError: (r: ServerResponse, e: RpcError) => sendError(r, e),
      };
      return new HttpStreamOwner(res, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, host).start(entry, {
        ...request,
        args,
      });
    }
    const owner = new HttpCallOwner(res, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, this.host);
    const call = new ServerCall(owner, 1, entry, { ...request, args }, Date.now(), this.host.handleTimeoutMs);
    res.once('close', () => {
      if (!res.writableFinished) call.cancel('HTTP client disconnected');
    });
    call.start(args);
  }
}

class HttpCallOwner implements CallOwner {
  readonly transport = 'http';
  readonly peerIdentity: PeerIdentity | undefined;

  constructor(
    private readonly res: ServerResponse,
    readonly peer: string,
    private readonly host: GatewayHost,
  ) {
    this.peerIdentity = peerIdentityOf(res.req.socket);
  }

  sendResult(_id: number, result: unknown): RpcCode | undefined {
    let body: string;
    try {
      body = JSON.stringify(result === undefined ? null : result);
      if (body === undefined) throw new TypeError('not JSON');
    } catch {
      sendError(this.res, new RpcError(RpcCode.INTERNAL, 'the result could not be encoded'));
      return RpcCode.INTERNAL;
    }
    send(this.res, 200, 'application/json', body);
    return undefined;
  }

  sendError(_id: number, err: RpcError): void {
    sendError(this.res, err);
  }

  release(): void {}

  onHandlerError(err: unknown, call: ServerCall): void {
    this.host.onHandlerError(err, call.service, call.method);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function sendError(res: ServerResponse, err: RpcError, headers: Record<string, string> = {}, status = httpStatusOf(err.code)): void {
  let body: string;
  try {
    body = JSON.stringify(err.toWire());
  } catch {
    body = JSON.stringify({ code: err.code, message: err.message });
  }
  // HTTP requires a 401 to name a scheme the client may answer with.
  const challenge: Record<string, string> = err.code === RpcCode.UNAUTHENTICATED && status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  send(res, status, 'application/json', body, { ...challenge, ...headers });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): RpcError => new RpcError(RpcCode.RESOURCE_EXHAUSTED, `the body exceeds the limit of ${limit} bytes`);
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        return reject(tooLarge());
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => reject(new RpcError(RpcCode.UNAVAILABLE, 'the request body was cut off')));
  });
}

function parseTimeout(header: string | string[] | undefined): number {
  if (header === undefined) return DEFAULT_HTTP_TIMEOUT_MS;
  const n = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isFinite(n) || n <= 0)
    throw new RpcError(RpcCode.INVALID_ARGUMENT, `x-myrpc-timeout-ms must be a positive number of milliseconds, got '${String(header)}'`);
  return n;
}

/** `x-myrpc-meta-<key>: value` headers become the call's metadata; `Authorization` becomes `authorization`. */
function metadataOf(req: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (typeof req.headers.authorization === 'string') metadata.authorization = req.headers.authorization;
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-myrpc-meta-') && typeof value === 'string') metadata[name.slice('x-myrpc-meta-'.length)] = value;
  }
  return metadata;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
