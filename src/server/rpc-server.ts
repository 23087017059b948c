import type { AddressInfo, Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { createListener } from '../transport/listener';
import type { ValidatorOptions } from 'class-validator';
import { EventEmitter } from 'eventemitter3';
import { codecs as defaultCodecs, type CodecRegistry } from '../codec/codec-registry';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { ServiceDefinition } from '../metadata/service-definition';
import { DEFAULT_GRACE_MS } from '../util/limits';
import { timeoutOrZeroMs } from '../util/option-checks';
import { debugSnapshot, type DebugSnapshot, type ServerFigures } from '../http/debug-snapshot';
import { metricFamilies, type MetricFamily } from '../http/metrics';
import type * as HttpListenerModule from '../http/http-listener';
import { silentLogger, type Logger } from '../observability/logger';
import { checkInterceptors, type CallTransport, type ServerInterceptor } from '../interceptors/interceptor';
import { unguardedSurfaces } from './exposure';
import { serverTlsOptions, type TlsServerOptions } from '../transport/tls-options';
import { DESCRIBE_SERVICE, DescribeService } from './describe-service';
import { MethodTable } from './method-table';
import { ServerConnection } from './server-connection';
import { ByteBudget } from './byte-budget';
import { resolveServerLimits } from './server-limits';
import type { StreamWindowOptions } from '../stream/window-options';

export { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HANDLE_TIMEOUT_MS, DEFAULT_WRITE_TIMEOUT_MS, DEFAULT_GRACE_MS } from '../util/limits';

export interface RpcServerOptions extends StreamWindowOptions {
  /** Largest frame payload accepted, in bytes; announced to clients in the preface. Default 16 MiB. */
  maxFrameBytes?: number;
  /** A peer that has not sent its preface by then is dropped. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Upper bound on any handler's run time, whatever the client's deadline. Default 60 s. */
  handleTimeoutMs?: number;
  /**
   * How long a client may go without taking 64 KiB of the answers queued for it (or all of them, when less is
   * queued) before it is dropped. Default 10 s.
   */
  writeTimeoutMs?: number;
  /** Output queued for one connection above which the server stops reading it until it drains. Default 2 MiB. */
  outputHighWaterBytes?: number;
  /** Calls running at once on one connection; further requests wait unread in the socket (with streams open: refused with RESOURCE_EXHAUSTED). Default 100. */
  maxConcurrentCalls?: number;
  /** Server-wide cap on bytes held in incomplete frames, unread client-stream items and queued output. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** A connection whose incomplete frame receives no byte for this long is dropped. Default 10 s. */
  frameStallTimeoutMs?: number;
  /** PING a connection that has sent nothing for this long; 0 turns keepalive off. Default 30 s. */
  keepaliveMs?: number;
  /** Drop a connection that sends nothing for this long after a keepalive PING. Default 10 s. */
  keepaliveTimeoutMs?: number;
  /** Close (with GOAWAY) a connection that has had no call for this long; 0 means never (the default). */
  idleTimeoutMs?: number;
  /** Options for class-validator on DTO parameters. Default `{ forbidUnknownValues: true }`. */
  validatorOptions?: ValidatorOptions;
  codecs?: CodecRegistry;
  /** pino-compatible logger; silent by default. */
  logger?: Logger;
  /** Largest body accepted by RPC over HTTP, bytes. Default 1 MiB. */
  httpMaxBodyBytes?: number;
  /** Serve the built-in `MyRpcDescribe` service (what `myrpc list` and `myrpc describe` ask). Default true. */
  describe?: boolean;
  /** Serve the debug page `/debug/myrpc` and `/debug/myrpc/stats.json` on the HTTP port. Default true. */
  debugPage?: boolean;
  /** Serve `/metrics` (Prometheus text format) on the HTTP port. Default true. */
  metrics?: boolean;
  /**
   * Interceptors around every call (TCP, HTTP and tunnel alike, the describe service included), the first
   * outermost. `@Use` ones of a class or method run inside these. Default none.
   */
  interceptors?: readonly ServerInterceptor[];
  /** TLS (and with `requestCert`, mTLS) on the binary port and on the HTTP port (then HTTPS). Default none: plain TCP. */
  tls?: TlsServerOptions;
  /**
   * Makes the listener for `listen()`, given the function that serves each accepted socket (default
   * `net.createServer`, or `tls.createServer` with `tls`): for a listener of your own. Hand sockets from
   * anywhere else to `server.handleSocket()`.
   */
  createListener?: (onSocket: (socket: Socket) => void) => Server;
}

export interface ServerEvents {
  listening: (address: AddressInfo) => void;
  connection: (peer: string) => void;
  /** Every connection is closed and the listener stopped. */
  close: () => void;
  /** A listener error (e.g. EADDRINUSE). */
  error: (err: Error) => void;
  /** A peer broke the protocol; the server goes on serving others. */
  clientError: (err: RpcError, peer: string) => void;
  /** A handler threw something that is not an RpcError; the client got `INTERNAL`. */
  handlerError: (err: unknown, service: string, method: string) => void;
}

export interface CloseOptions {
  /** How long in-flight calls may run on after the listener stops, ms (0: abort them at once). Default 5 s. */
  graceMs?: number;
}

/** A MyRPC server: register service instances, `listen`, `close` gracefully. */
export class RpcServer extends EventEmitter<ServerEvents> {
  private readonly table: MethodTable;
  private readonly net: Server;
  private readonly connections = new Set<ServerConnection>();
  private closing: Promise<void> | undefined;
  private readonly shutdownHooks: (() => Promise<void> | void)[] = [];
  private readonly settings;
  private readonly logger: Logger;
  private readonly startedAt = Date.now();
  private http: HttpListenerModule.HttpListener | undefined;
  private readonly httpMaxBodyBytes: number | undefined;
  private readonly tls: ReturnType<typeof serverTlsOptions> | undefined;
  private readonly surfaces: { readonly describe: boolean; readonly debugPage: boolean; readonly metrics: boolean };

  constructor(options: RpcServerOptions = {}) {
    super();
    this.table = new MethodTable(options.validatorOptions, checkInterceptors(options.interceptors, 'interceptors'));
    this.logger = options.logger ?? silentLogger;
    const limits = resolveServerLimits(options);
    this.httpMaxBodyBytes = limits.httpMaxBodyBytes;
    this.surfaces = { describe: options.describe !== false, debugPage: options.debugPage !== false, metrics: options.metrics !== false };
    this.settings = {
      table: this.table,
      codecs: options.codecs ?? defaultCodecs,
      ...limits,
      budget: new ByteBudget(limits.maxBufferedBytes),
      onClientError: (err: RpcError, peer: string) => {
        this.logger.warn({ peer, code: err.code }, `client broke the protocol: ${err.message}`);
        this.emit('clientError', err, peer);
      },
      onHandlerError: (err: unknown, service: string, method: string) => {
        this.logger.error({ service, method, err }, `${service}.${method} threw`);
        this.emit('handlerError', err, service, method);
      },
      onClosed: (conn: ServerConnection) => this.connections.delete(conn),
      onIdle: (conn: ServerConnection) => conn.end(),
    };
    if (options.describe !== false) this.table.register(new DescribeService(() => this.services()));
    // A peer that opens TCP and never finishes the TLS handshake is dropped after the handshake timeout too,
    // not after node:tls's default of 120 s.
    this.tls =
      options.tls === undefined ? undefined : { ...serverTlsOptions(options.tls), handshakeTimeout: this.settings.handshakeTimeoutMs };
    this.net = this.makeListener(options.createListener);
    this.net.on('error', (err) => this.emit('error', err));
  }

  /** Adds a `@Service` instance. Throws `ServiceDefinitionError` naming class and member on a definition mistake. */
  register(instance: object): this {
    this.table.register(instance);
    return this;
  }

  /**
   * Serves the MyRPC binary protocol on a connected socket from any listener (a TLS server of your own, a
   * socket handed over by another process). The connection belongs to this server from then on.
   */
  handleSocket(socket: Duplex): void {
    this.accept(socket);
  }

  /** Adds global interceptors inside those given so far; they apply to methods registered before and after. */
  use(...interceptors: ServerInterceptor[]): this {
    this.table.use(checkInterceptors(interceptors, 'use()'));
    return this;
  }

  /** The services registered by the user (the built-in describe service left out). */
  services(): ServiceDefinition[] {
    return this.table.serviceDefinitions().filter((d) => d.name !== DESCRIBE_SERVICE);
  }

  /**
   * Runs `hook` first thing in `close()`, before GOAWAY: the place to deregister from a service registry,
   * so clients stop picking this server while its in-flight calls drain. A hook that throws is ignored.
   */
  addShutdownHook(hook: () => Promise<void> | void): this {
    this.shutdownHooks.push(hook);
    return this;
  }

  /** Starts listening; resolves with the bound address. Use port 0 for any free port. */
  listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.net.once('error', onError);
      this.net.listen(port, host, () => {
        this.net.off('error', onError);
        const address = this.net.address() as AddressInfo;
        this.logger.info({ address: address.address, port: address.port }, 'myrpc server listening');
        this.warnIfExposed(host, { describe: this.surfaces.describe });
        this.emit('listening', address);
        resolve(address);
      });
    });
  }

  /**
   * Serves RPC over HTTP (`POST /rpc/<Service>/<method>`), the debug page (`/debug/myrpc`), `/metrics`,
   * `/healthz` and a CONNECT tunnel to the binary protocol, on its own port, from this same server.
   */
  listenHttp(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    if (this.http) return Promise.reject(new Error('listenHttp() was called already'));
    // Loaded on first use: the HTTP port is a listener in front of this server, and a server that never serves
    // HTTP never loads it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { HttpListener } = require('../http/http-listener') as typeof HttpListenerModule;
    const http = new HttpListener({
      gateway: {
        table: this.table,
        handleTimeoutMs: this.settings.handleTimeoutMs,
        maxBodyBytes: this.httpMaxBodyBytes,
        figures: () => this.figures(),
        debugPage: this.surfaces.debugPage,
        metrics: this.surfaces.metrics,
        acceptTunnel: (socket) => this.accept(socket, 'tunnel'),
        onHandlerError: (err, service, method) => this.settings.onHandlerError(err, service, method),
      },
      tls: this.tls,
      logger: this.logger,
      onTlsError: (err, socket) => this.onTlsError(err, socket),
    });
    this.http = http;
    return http.listen(port, host).then(
      (address) => {
        this.warnIfExposed(host, { debugPage: this.surfaces.debugPage, metrics: this.surfaces.metrics });
        return address;
      },
      (err: Error) => {
        this.http = undefined; // a failed listen (port in use) may be retried
        throw err;
      },
    );
  }

  httpAddress(): AddressInfo | undefined {
    return this.http?.address();
  }

  /** Server-wide figures for the debug page and metrics. */
  figures(): ServerFigures {
    const a = this.address();
    return {
      startedAt: this.startedAt,
      connections: this.connections.size,
      inFlight: this.inFlight,
      address: a ? `${a.address}:${a.port}` : undefined,
    };
  }

  /** What the debug page shows (`/debug/myrpc/stats.json`): lifetime counters, percentiles over the last minute. */
  debugSnapshot(): DebugSnapshot {
    return debugSnapshot(this.table, this.figures());
  }

  /** MyRPC's metrics as data: the families `/metrics` serves (see `registerPromMetrics`, `renderMetricFamilies`). */
  metricFamilies(): MetricFamily[] {
    return metricFamilies(this.table, this.figures());
  }

  address(): AddressInfo | undefined {
    return (this.net.address() as AddressInfo | null) ?? undefined;
  }

  /** Calls in flight, over TCP connections and HTTP. */
  get inFlight(): number {
    let n = 0;
    for (const entry of this.table.entries()) n += entry.stats.inFlight;
    return n;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Bytes held now in incomplete frames, client-stream items not yet taken and queued output, over all connections (capped by `maxBufferedBytes`). */
  get bufferedBytes(): number {
    return this.settings.budget.heldBytes;
  }

  /**
   * Graceful close: stop accepting, send GOAWAY, let in-flight calls finish within `graceMs`, then abort
   * them (their handlers' signals fire and clients get `UNAVAILABLE`) and close every connection.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    let graceMs: number;
    try {
      graceMs = timeoutOrZeroMs('graceMs', options.graceMs, DEFAULT_GRACE_MS);
    } catch (err) {
      return Promise.reject(err as RangeError);
    }
    this.closing = this.shutdown(graceMs);
    return this.closing;
  }

  private makeListener(custom: RpcServerOptions['createListener']): Server {
    const onSocket = (socket: Socket): void => this.accept(socket);
    if (custom) return custom(onSocket);
    return createListener(this.tls, onSocket, (err, socket) => this.onTlsError(err, socket));
  }

  /** A failed TLS handshake (no or a bad client certificate, a plain-TCP client): the peer is dropped. */
  private onTlsError(err: Error, socket: TLSSocket): void {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.settings.onClientError(
      new RpcError(RpcCode.UNAUTHENTICATED, `TLS handshake failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`),
      peer,
    );
  }

  /** Outside surfaces on a non-loopback address with no global interceptor (so no auth) deserve a warning. */
  private warnIfExposed(host: string, surfaces: Record<string, boolean>): void {
    const open = unguardedSurfaces(host, this.table.globalInterceptors().length > 0, surfaces);
    if (open.length === 0) return;
    this.logger.warn(
      { host, surfaces: open },
      `${open.join(', ')} served on ${host} without protection: add an auth interceptor (bearerAuth) or turn them off (options ${open.map((n) => `${n}: false`).join(', ')})`,
    );
  }

  private accept(socket: Duplex, transport: CallTransport = 'tcp'): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(socket, this.settings, transport);
    this.connections.add(conn);
    this.emit('connection', conn.peer);
  }

  private async shutdown(graceMs: number): Promise<void> {
    await Promise.all(
      this.shutdownHooks.map(async (hook) => {
        try {
          await hook();
        } catch {
          // a registry that cannot be told is no reason not to shut down
        }
      }),
    );
    const listenerClosed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    const http = this.http;
    const httpClosed = http ? http.close() : Promise.resolve();
    for (const conn of this.connections) conn.goAway('server shutting down');
    await this.drain(graceMs);
    for (const conn of this.connections) conn.abortAll();
    await this.waitForConnections(1000);
    for (const conn of this.connections) conn.destroy();
    http?.closeAllConnections();
    await Promise.all([listenerClosed, httpClosed]);
    this.logger.info({}, 'myrpc server closed');
    this.emit('close');
  }

  /** Resolves when no call is in flight, or when `ms` have passed. */
  private drain(ms: number): Promise<void> {
    return this.poll(() => this.inFlight === 0, ms);
  }

  private waitForConnections(ms: number): Promise<void> {
    return this.poll(() => this.connections.size === 0, ms);
  }

  private poll(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const until = Date.now() + ms;
      const tick = (): void => {
        if (done() || Date.now() >= until) resolve();
        else setTimeout(tick, 10); // not unref'd: a caller awaiting close() keeps the process up until it ends
      };
      tick();
    });
  }
}
