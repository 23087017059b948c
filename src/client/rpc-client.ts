import { EventEmitter } from 'eventemitter3';
import type { Codec } from '../codec/codec';
import { codecs as defaultCodecs, type CodecRegistry } from '../codec/codec-registry';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { ServiceDefinition } from '../metadata/service-definition';
import { clampDelay, unrefTimer } from '../util/timers';
import { callDeadline, type CallOptions } from './call-options';
import { resolveClientLimits, type ClientLimits } from './client-limits';
import type { StreamWindowOptions } from '../stream/window-options';
import { positiveTimeoutMs } from '../util/option-checks';
import { ClientConnection } from './client-connection';
import { socketConnector, tcpConnector, tlsConnector, type Connector, type CreateConnection } from '../transport/connector';
import { cancelledError } from './pending-call';
import { createProxy, type Invoker, type ServiceProxy } from './proxy';
import { clientTlsOptions, type TlsClientOptions } from '../transport/tls-options';
import { checkInterceptors, compose, type ClientCallInfo, type ClientInterceptor, type ClientNext } from '../interceptors/interceptor';
import type { ClientStream } from '../stream/client-stream';
import { LazyStream } from '../stream/lazy-stream';
import { streamResultOf } from '../stream/stream-interceptors';
import { methodKind } from '../stream/stream-stats';

export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CLIENT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_CLIENT_WRITE_TIMEOUT_MS,
} from '../util/limits';

export interface RpcClientOptions extends StreamWindowOptions {
  host?: string;
  port: number;
  /** `'json'` (default), `'msgpack'`, or a registered Codec. */
  codec?: Codec | string;
  /** Deadline for calls that set none, ms. Default 30 s: no call waits forever. */
  defaultTimeoutMs?: number;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /**
   * How long the socket may go without taking 64 KiB of the bytes queued for it (or all of them, when less is
   * queued) before the connection is dropped (`UNAVAILABLE`, `timeout: 'write'`). Default 10 s.
   */
  writeTimeoutMs?: number;
  /** Largest answer accepted, in bytes (1 KiB to 4 GiB - 1); told to the server in the preface. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Bytes queued for the socket above which new calls wait, within their deadlines, for it to drain. Default 2 MiB. */
  outputHighWaterBytes?: number;
  /** PING the server after this long without a byte from it; 0 turns keepalive off. Default 30 s. */
  keepaliveMs?: number;
  /** No byte for this long after a PING: close, failing the calls at once with `UNAVAILABLE`. Default 10 s. */
  keepaliveTimeoutMs?: number;
  /** An incomplete frame from the server that receives no byte for this long closes the connection. Default 10 s. */
  frameStallTimeoutMs?: number;
  codecs?: CodecRegistry;
  /** Opens the socket (default `net.connect`): a `net.Socket` that emits `connect`, for Unix sockets or tests. */
  createConnection?: CreateConnection;
  /**
   * Opens the byte stream to the server: anything that yields a connected `Duplex` (`memoryConnector(server)`
   * for tests, a socket from a proxy library). Wins over `createConnection` and `tls`.
   */
  connector?: Connector;
  /** Speak TLS (`{}` trusts Node's public roots; `ca` a private authority; `cert` and `key` for mTLS). Default plain TCP. */
  tls?: TlsClientOptions;
  /** Reach the server through its HTTP port (`server.listenHttp`) with `CONNECT /myrpc`. */
  httpTunnel?: boolean;
  /** Metadata sent with every call (e.g. `{ authorization: 'Bearer …' }`); a call's own metadata wins per key. */
  metadata?: Readonly<Record<string, string>>;
  /** Interceptors around every call, the first outermost. Default none. */
  interceptors?: readonly ClientInterceptor[];
}

export interface ClientEvents {
  connect: (remote: string) => void;
  /** The connection closed; `err` is set when it was not closed by `close()`. */
  disconnect: (remote: string, err: RpcError | undefined) => void;
  /** The server is shutting down; later calls open a new connection. */
  goaway: (remote: string, reason: string) => void;
  /** A connection attempt failed (the calls waiting on it were rejected with the same error). */
  error: (err: RpcError) => void;
}

/**
 * A client for one server over one multiplexed connection, opened on first use and reopened after it drops.
 */
export class RpcClient extends EventEmitter<ClientEvents> implements Invoker {
  private conn: ClientConnection | undefined;
  private connecting: Promise<ClientConnection> | undefined;
  /** Aborts a connection attempt in progress when the client is closed. */
  private readonly closing = new AbortController();
  private closed = false;
  private readonly host: string;
  private readonly port: number;
  private readonly codec: Codec;
  private readonly defaultTimeoutMs: number;
  private readonly options: RpcClientOptions;
  private readonly connector: Connector;
  private readonly transportKind: 'tcp' | 'tls' | 'custom';
  private readonly metadata: Readonly<Record<string, string>> | undefined;
  /** Built once here; undefined without interceptors, so plain calls take the direct path. */
  private readonly chain: ClientNext | undefined;
  private readonly limits: ClientLimits;

  constructor(options: RpcClientOptions) {
    super();
    this.options = options;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port;
    this.codec = (options.codecs ?? defaultCodecs).resolve(options.codec);
    this.limits = resolveClientLimits(options);
    this.defaultTimeoutMs = this.limits.defaultTimeoutMs;
    if (options.tls !== undefined) clientTlsOptions(options.tls, this.host, this.port); // a bad tls option fails here, not on first call
    this.transportKind = options.connector || options.createConnection ? 'custom' : options.tls ? 'tls' : 'tcp';
    this.connector =
      options.connector ??
      (options.createConnection ? socketConnector(options.createConnection) : options.tls ? tlsConnector(options.tls) : tcpConnector());
    this.metadata = options.metadata && Object.keys(options.metadata).length > 0 ? { ...options.metadata } : undefined;
    if (checkInterceptors(options.interceptors, 'interceptors').length > 0) {
      this.chain = compose(options.interceptors as readonly ClientInterceptor[], (c) =>
        c.kind === 'unary'
          ? this.send(c.service, c.method, c.args, { deadline: c.deadline, signal: c.signal, metadata: c.metadata })
          : c.kind === 'server'
            ? this.openStream(c)
            : this.openInputStream(c),
      );
    }
  }

  /** A typed proxy of a `@Service` class (the implementation or a contract class shared with the server). */
  proxy<T>(service: abstract new (...args: never[]) => T, options?: CallOptions): ServiceProxy<T> {
    return createProxy<T>(this, service, options);
  }

  /** Untyped call by names, for tools and dynamic callers. */
  call(service: string, method: string, args: unknown[], options?: CallOptions): Promise<unknown> {
    return this.dispatch(undefined, service, method, args, options);
  }

  invoke(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown> {
    return this.dispatch(def, def.name, method, args, options);
  }

  /**
   * The connection a call may be handed to directly, bypassing {@link call}: ready, and this client has no
   * interceptors or metadata of its own to apply. The ClusterClient's first try uses it. Undefined otherwise.
   * @internal
   */
  directConnection(): ClientConnection | undefined {
    const conn = this.conn;
    return this.chain === undefined && this.metadata === undefined && conn?.isReady ? conn : undefined;
  }

  /**
   * Untyped server stream by names (what a proxy's streaming method calls): the items as they arrive. The
   * deadline and `signal` cover the whole stream; leaving the loop early cancels it on the server.
   */
  stream(service: string, method: string, args: unknown[], options?: CallOptions): AsyncGenerator<unknown, void, undefined> {
    return new LazyStream(() => this.streamCall(undefined, service, method, args, options));
  }

  streamMethod(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): AsyncIterable<unknown> {
    return new LazyStream(() => this.streamCall(def, def.name, method, args, options));
  }

  /** Opens a stream (on the consumer's first `next()`), through the interceptors when there are any: they run once. */
  private async streamCall(
    def: ServiceDefinition | undefined,
    service: string,
    method: string,
    args: unknown[],
    options: CallOptions | undefined,
  ): Promise<AsyncIterable<unknown>> {
    const deadline = callDeadline(options, this.defaultTimeoutMs);
    const signal = options?.signal;
    if (this.chain === undefined) {
      const metadata = this.metadata === undefined ? options?.metadata : { ...this.metadata, ...options?.metadata };
      return this.openStream({ service, method, args, deadline, signal, metadata });
    }
    const definition = def?.methods.get(method);
    const kind = definition ? methodKind((def?.target.prototype as Record<string, unknown>)[method], definition.options.stream) : 'server';
    const metadata = { ...this.metadata, ...options?.metadata };
    return streamResultOf(
      await this.chain({ service, method, definition, args, metadata, deadline, signal, kind }),
      `${service}.${method}`,
    );
  }

  /** Sends a stream's REQUEST (the innermost step of a stream call): resolves with its items once it is open. */
  private async openStream(
    c: Pick<ClientCallInfo, 'service' | 'method' | 'args' | 'deadline' | 'signal'> & { metadata: Record<string, string> | undefined },
  ): Promise<ClientStream> {
    const what = `${c.service}.${c.method}`;
    if (c.signal?.aborted) throw cancelledError(what, c.signal, false);
    const conn = this.conn?.isReady === true ? this.conn : await this.waitForConnection(what, c.deadline, c.signal);
    return conn.openStream(c.service, c.method, c.args, c.deadline, c.signal, c.metadata);
  }

  /**
   * Untyped client stream by names: `args[0]` is an `AsyncIterable` (or `Iterable`) of the items to send, pulled
   * only as the server grants credit; the other arguments go with the request. Resolves with the handler's result.
   */
  async clientStream(service: string, method: string, args: unknown[], options?: CallOptions): Promise<unknown> {
    if (this.chain !== undefined) return this.chain(this.inputCallInfo(undefined, service, method, args, options, 'client'));
    const { conn, deadline, metadata } = await this.streamConnection(service, method, options);
    return conn.upload(service, method, args[0], args.slice(1), deadline, options?.signal, metadata);
  }

  /** Untyped bidi stream by names: `args[0]` is sent as for {@link clientStream}, the answers arrive as for {@link stream}. */
  bidiStream(service: string, method: string, args: unknown[], options?: CallOptions): AsyncGenerator<unknown, void, undefined> {
    return this.bidiCall(undefined, service, method, args, options);
  }

  clientStreamMethod(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown> {
    if (this.chain === undefined) return this.clientStream(def.name, method, args, options);
    try {
      return this.chain(this.inputCallInfo(def, def.name, method, args, options, 'client'));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  bidiStreamMethod(def: ServiceDefinition, method: string, args: unknown[], options: CallOptions | undefined): AsyncIterable<unknown> {
    return this.bidiCall(def, def.name, method, args, options);
  }

  /** A bidi stream, opened on the consumer's first `next()`, through the interceptors when there are any. */
  private bidiCall(
    def: ServiceDefinition | undefined,
    service: string,
    method: string,
    args: unknown[],
    options: CallOptions | undefined,
  ): AsyncGenerator<unknown, void, undefined> {
    return new LazyStream(async () => {
      if (this.chain !== undefined) {
        const result = await this.chain(this.inputCallInfo(def, service, method, args, options, 'bidi'));
        return streamResultOf(result, `${service}.${method}`);
      }
      const { conn, deadline, metadata } = await this.streamConnection(service, method, options);
      return conn.openBidi(service, method, args[0], args.slice(1), deadline, options?.signal, metadata);
    });
  }

  /** What the interceptors see of a client or bidi stream: `args[0]` is the caller's input. */
  private inputCallInfo(
    def: ServiceDefinition | undefined,
    service: string,
    method: string,
    args: unknown[],
    options: CallOptions | undefined,
    kind: 'client' | 'bidi',
  ): ClientCallInfo {
    const deadline = callDeadline(options, this.defaultTimeoutMs);
    const metadata = { ...this.metadata, ...options?.metadata };
    return { service, method, definition: def?.methods.get(method), args, metadata, deadline, signal: options?.signal, kind };
  }

  /** The innermost step of a client stream (resolves with its result) or a bidi stream (with its answers). */
  private async openInputStream(c: ClientCallInfo): Promise<unknown> {
    const what = `${c.service}.${c.method}`;
    if (c.signal?.aborted) throw cancelledError(what, c.signal, false);
    const conn = this.conn?.isReady === true ? this.conn : await this.waitForConnection(what, c.deadline, c.signal);
    if (c.kind === 'client') return conn.upload(c.service, c.method, c.args[0], c.args.slice(1), c.deadline, c.signal, c.metadata);
    return conn.openBidi(c.service, c.method, c.args[0], c.args.slice(1), c.deadline, c.signal, c.metadata);
  }

  private async streamConnection(
    service: string,
    method: string,
    options: CallOptions | undefined,
  ): Promise<{ conn: ClientConnection; deadline: number; metadata: Record<string, string> | undefined }> {
    const deadline = callDeadline(options, this.defaultTimeoutMs);
    const signal = options?.signal;
    if (signal?.aborted) throw cancelledError(`${service}.${method}`, signal, false);
    const conn = this.conn?.isReady === true ? this.conn : await this.waitForConnection(`${service}.${method}`, deadline, signal);
    const metadata = this.metadata === undefined ? options?.metadata : { ...this.metadata, ...options?.metadata };
    return { conn, deadline, metadata };
  }

  /** Opens the connection now rather than on the first call. */
  async connect(): Promise<void> {
    await this.connection();
  }

  /** Round trip of a PING frame, ms. */
  async ping(timeoutMs = this.defaultTimeoutMs): Promise<number> {
    const checked = positiveTimeoutMs('timeoutMs', timeoutMs, this.defaultTimeoutMs);
    return (await this.connection()).ping(checked);
  }

  /** Calls waiting for an answer. */
  get pendingCount(): number {
    return this.conn?.pendingCount ?? 0;
  }

  /** Streams open on the current connection: opened and not yet ended, failed, cancelled or left. */
  get streamCount(): number {
    return this.conn?.streamCount ?? 0;
  }

  /** Closes the connection; pending calls reject with `CANCELLED`, later calls with `UNAVAILABLE`. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    const conn = this.conn ?? (await this.connecting?.catch(() => undefined));
    conn?.close();
    this.conn = undefined;
  }

  private dispatch(
    def: ServiceDefinition | undefined,
    service: string,
    method: string,
    args: unknown[],
    options: CallOptions | undefined,
  ): Promise<unknown> {
    const chain = this.chain;
    if (chain === undefined) {
      if (this.metadata === undefined) return this.send(service, method, args, options);
      return this.send(service, method, args, { ...options, metadata: { ...this.metadata, ...options?.metadata } });
    }
    const metadata = { ...this.metadata, ...options?.metadata };
    try {
      const deadline = callDeadline(options, this.defaultTimeoutMs);
      return chain({
        service,
        method,
        definition: def?.methods.get(method),
        args,
        metadata,
        deadline,
        signal: options?.signal,
        kind: 'unary',
      });
    } catch (err) {
      return Promise.reject(err as Error); // an interceptor that throws instead of rejecting
    }
  }

  private send(service: string, method: string, args: unknown[], options: CallOptions | undefined): Promise<unknown> {
    let deadline: number;
    // One clock read for the deadline, the time left that the request carries and its place in the deadline queue.
    const nowMs = Date.now();
    try {
      deadline = callDeadline(options, this.defaultTimeoutMs, nowMs);
    } catch (err) {
      return Promise.reject(err as RangeError);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(cancelledError(`${service}.${method}`, signal, false));
    const conn = this.conn;
    if (conn?.isReady) return conn.request(service, method, args, deadline, signal, options?.metadata, nowMs);
    return this.waitForConnection(`${service}.${method}`, deadline, signal).then((c) =>
      c.request(service, method, args, deadline, signal, options?.metadata),
    );
  }

  /** The connection, bounded by the call's own deadline and signal while it is being opened. */
  private waitForConnection(what: string, deadline: number, signal: AbortSignal | undefined): Promise<ClientConnection> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        reject(cancelledError(what, signal, false));
      };
      const timer = unrefTimer(
        setTimeout(
          () => {
            finish();
            reject(
              new RpcError(RpcCode.DEADLINE_EXCEEDED, `${what}: deadline exceeded while connecting`, {
                timeout: 'call',
                mayHaveRun: false,
              }),
            );
          },
          clampDelay(deadline - Date.now()),
        ),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.connection().then(
        (c) => {
          finish();
          resolve(c);
        },
        (err: RpcError) => {
          finish();
          reject(err);
        },
      );
    });
  }

  private connection(): Promise<ClientConnection> {
    if (this.closed) return Promise.reject(new RpcError(RpcCode.UNAVAILABLE, 'client is closed', { mayHaveRun: false }));
    if (this.conn?.isReady) return Promise.resolve(this.conn);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<ClientConnection> {
    const o = this.options;
    try {
      const conn = await ClientConnection.open(
        {
          host: this.host,
          port: this.port,
          codec: this.codec,
          ...this.limits,
          connector: this.connector,
          transportKind: this.transportKind,
          httpTunnel: o.httpTunnel,
          onGoAway: (c, reason) => this.onGoAway(c, reason),
          onClose: (c, err) => this.onConnectionClose(c, err),
        },
        this.closing.signal,
      );
      if (this.closed) {
        conn.close();
        throw new RpcError(RpcCode.UNAVAILABLE, 'client is closed', { mayHaveRun: false });
      }
      this.conn = conn;
      this.emit('connect', conn.remote);
      return conn;
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err as RpcError);
      throw err;
    }
  }

  private onGoAway(conn: ClientConnection, reason: string): void {
    if (this.conn === conn) this.conn = undefined;
    this.emit('goaway', conn.remote, reason);
  }

  private onConnectionClose(conn: ClientConnection, err: RpcError | undefined): void {
    if (this.conn === conn) this.conn = undefined;
    this.emit('disconnect', conn.remote, err);
  }
}
