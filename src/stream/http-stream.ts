import type { ServerResponse } from 'node:http';
import type { RpcError } from '../errors/rpc-error';
import type { RequestMessage } from '../protocol/request';
import type { MethodEntry } from '../server/method-table';
import { peerIdentityOf, type PeerIdentity } from '../transport/peer-identity';
import { ServerStream, type StreamOwner } from './server-stream';
import { DEFAULT_STREAM_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_MESSAGES } from './stream-window';

/** What an HTTP stream needs from the gateway. */
export interface HttpStreamHost {
  readonly handleTimeoutMs: number;
  onHandlerError(err: unknown, service: string, method: string): void;
  /** Answers an error before any item went out (a plain JSON error with its HTTP status). */
  sendError(res: ServerResponse, err: RpcError): void;
}

/**
 * A server stream over `POST /rpc/...`, answered as NDJSON: one JSON line per item, and, when the stream fails
 * after items went out, a last line `{"error":{code,message,...}}`. The socket's own backpressure is the window:
 * credit for an item comes back only once the response has taken it, so a client that does not read stops the
 * generator. A client that disconnects cancels the stream.
 */
export class HttpStreamOwner implements StreamOwner {
  readonly transport = 'http';
  readonly peerIdentity: PeerIdentity | undefined;
  private stream: ServerStream | undefined;

  constructor(
    private readonly res: ServerResponse,
    readonly peer: string,
    private readonly host: HttpStreamHost,
  ) {
    this.peerIdentity = peerIdentityOf(res.req.socket);
  }

  start(entry: MethodEntry, request: RequestMessage): void {
    const stream = new ServerStream(this, 1, entry, request, this.host.handleTimeoutMs);
    this.stream = stream;
    this.res.once('close', () => {
      if (!this.res.writableFinished) stream.cancel('HTTP client disconnected');
    });
    stream.grant([DEFAULT_STREAM_WINDOW_MESSAGES, DEFAULT_STREAM_WINDOW_BYTES]);
    stream.start(request.args);
  }

  sendItem(_id: number, item: unknown): number | RpcError {
    const line = `${JSON.stringify(item === undefined ? null : item) ?? 'null'}\n`;
    if (!this.res.headersSent) this.res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const bytes = Buffer.byteLength(line);
    // Credit returns when the socket took the line: at once, or on 'drain'.
    const give = (): void => this.stream?.grant([1, bytes]);
    if (this.res.write(line)) queueMicrotask(give);
    else this.res.once('drain', give);
    return bytes;
  }

  sendEnd(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    this.res.end();
  }

  sendError(_id: number, err: RpcError): void {
    if (this.res.destroyed) return;
    if (!this.res.headersSent) return this.host.sendError(this.res, err);
    this.res.end(`${JSON.stringify({ error: err.toWire() })}\n`);
  }

  release(): void {}

  onHandlerError(err: unknown, service: string, method: string): void {
    this.host.onHandlerError(err, service, method);
  }
}
