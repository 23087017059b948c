import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ValidatorOptions } from 'class-validator';
import { EventEmitter } from 'eventemitter3';
import { codecs as defaultCodecs, type CodecRegistry } from '../codec/codec-registry';
import type { RpcError } from '../errors/rpc-error';
import type { ServiceDefinition } from '../metadata/service-definition';
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/frame';
import { MethodTable } from './method-table';
import { ServerConnection } from './server-connection';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_HANDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_WRITE_TIMEOUT_MS = 10_000;
export const DEFAULT_GRACE_MS = 5_000;

export interface RpcServerOptions {
  /** Largest frame payload accepted, in bytes; announced to clients in the preface. Default 16 MiB. */
  maxFrameBytes?: number;
  /** A peer that has not sent its preface by then is dropped. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Upper bound on any handler's run time, whatever the client's deadline. Default 60 s. */
  handleTimeoutMs?: number;
  /** How long a client may refuse to read our answers before it is dropped. Default 10 s. */
  writeTimeoutMs?: number;
  /** Options for class-validator on DTO parameters. Default `{ forbidUnknownValues: true }`. */
  validatorOptions?: ValidatorOptions;
  codecs?: CodecRegistry;
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
  /** How long in-flight calls may run on after the listener stops, ms. Default 5 s. */
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

  constructor(options: RpcServerOptions = {}) {
    super();
    this.table = new MethodTable(options.validatorOptions);
    this.settings = {
      table: this.table,
      codecs: options.codecs ?? defaultCodecs,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      handleTimeoutMs: options.handleTimeoutMs ?? DEFAULT_HANDLE_TIMEOUT_MS,
      writeTimeoutMs: options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
      onClientError: (err: RpcError, peer: string) => this.emit('clientError', err, peer),
      onHandlerError: (err: unknown, service: string, method: string) => this.emit('handlerError', err, service, method),
      onClosed: (conn: ServerConnection) => this.connections.delete(conn),
      onIdle: (conn: ServerConnection) => conn.end(),
    };
    this.net = createServer((socket) => this.accept(socket));
    this.net.on('error', (err) => this.emit('error', err));
  }

  /** Adds a `@Service` instance. Throws `ServiceDefinitionError` naming class and member on a definition mistake. */
  register(instance: object): this {
    this.table.register(instance);
    return this;
  }

  services(): ServiceDefinition[] {
    return this.table.serviceDefinitions();
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
        this.emit('listening', address);
        resolve(address);
      });
    });
  }

  address(): AddressInfo | undefined {
    return (this.net.address() as AddressInfo | null) ?? undefined;
  }

  /** Calls in flight over all connections. */
  get inFlight(): number {
    let n = 0;
    for (const c of this.connections) n += c.inFlight;
    return n;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Graceful close: stop accepting, send GOAWAY, let in-flight calls finish within `graceMs`, then abort
   * them (their handlers' signals fire and clients get `UNAVAILABLE`) and close every connection.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.graceMs ?? DEFAULT_GRACE_MS);
    return this.closing;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(socket, this.settings);
    this.connections.add(conn);
    this.emit('connection', conn.peer);
  }

  private async shutdown(graceMs: number): Promise<void> {
    await Promise.all(this.shutdownHooks.map(async (hook) => {
      try {
        await hook();
      } catch {
        // a registry that cannot be told is no reason not to shut down
      }
    }));
    const listenerClosed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    for (const conn of this.connections) conn.goAway('server shutting down');
    await this.drain(graceMs);
    for (const conn of this.connections) conn.abortAll();
    await this.waitForConnections(1000);
    for (const conn of this.connections) conn.destroy();
    await listenerClosed;
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
