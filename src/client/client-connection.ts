import type { Duplex } from 'node:stream';
import type { Codec } from '../codec/codec';
import { RpcCode, RpcError } from '../errors/rpc-error';
import {
  decodePreface,
  encodePreface,
  FrameKind,
  MAGIC,
  MAX_REQUEST_ID,
  PREFACE_BYTES,
  PrefaceFlags,
  PROTOCOL_VERSION,
  PrefaceStatus,
} from '../protocol/frame';
import { ClientStream, type ClientStreamOwner } from '../stream/client-stream';
import type { OutboundStream } from '../stream/outbound-stream';
import { InputStreams, type OpenedInput } from '../stream/input-calls';
import { DEFAULT_STREAM_WINDOW, type StreamWindow } from '../stream/stream-window';
import { FrameError, FrameReader } from '../protocol/frame-reader';
import { FrameWriter, payloadExceeds } from '../protocol/frame-writer';
import { readTunnelAnswer, tunnelRequest } from '../protocol/tunnel';
import { chunksAreTransient, type Connector } from '../transport/connector';
import { Liveness, livenessTickMs } from '../protocol/liveness';
import { encodeRequest } from '../protocol/request';
import { clampDelay, MAX_TIMER_MS, unrefTimer } from '../util/timers';
import { cancelledError, NOT_QUEUED, PendingCall, type CallSink, type PendingOwner } from './pending-call';
import { IdTable } from '../util/id-table';
import { DeadlineQueue } from '../util/deadline-queue';

export type { CreateConnection } from '../transport/connector';

export interface ClientConnectionOptions {
  host: string;
  port: number;
  codec: Codec;
  maxFrameBytes: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  writeTimeoutMs: number;
  /** Opens the byte stream (TCP, TLS, in-memory, or the user's own). */
  connector: Connector;
  /** What kind of stream `connector` opens, for the hint in a handshake error. */
  transportKind: 'tcp' | 'tls' | 'custom';
  /** Output queued for the socket above which new calls wait (within their deadlines) for it to drain. */
  outputHighWaterBytes: number;
  /** PING the server after this long without a byte from it (0: never). */
  keepaliveMs: number;
  /** Close the connection, failing its calls with `UNAVAILABLE`, when nothing answers a PING for this long. */
  keepaliveTimeoutMs: number;
  /** Close the connection when an incomplete frame from the server receives no byte for this long. */
  frameStallTimeoutMs: number;
  /** The window granted to each server or bidi stream's items (default 64 items, 1 MiB). */
  streamWindow?: StreamWindow;
  /** Open the connection through an HTTP port with `CONNECT /myrpc` before the preface. */
  httpTunnel?: boolean;
  /** The server sent GOAWAY: open a new connection for new calls. */
  onGoAway(conn: ClientConnection, reason: string): void;
  /** The connection is gone; `err` says why when it was not closed on purpose. */
  onClose(conn: ClientConnection, err: RpcError | undefined): void;
}

/** A request refused before it was sent: the error goes where the call's outcome would have. */
function refuse(sink: CallSink | undefined, reject: ((err: Error) => void) | undefined, err: Error): void {
  if (sink !== undefined) sink.reject(err);
  else (reject as (err: Error) => void)(err);
}

/** One multiplexed connection to a server: requests by id, answers in any order. */
export class ClientConnection implements PendingOwner, ClientStreamOwner {
  private state: 'handshake' | 'ready' | 'draining' | 'closed' = 'handshake';
  private readonly pending = new IdTable<PendingCall>();
  readonly deadlines = new DeadlineQueue();
  private readonly streams = new IdTable<ClientStream>();
  /** The server acknowledged streams in its preface. */
  private serverStreams = false;
  /** The server acknowledged client and bidi streams in its preface. */
  private serverClientStreams = false;
  /** The sending ends of client and bidi streams. */
  private readonly inputs: InputStreams;
  private readonly pings = new Map<number, { timer: NodeJS.Timeout; done: (err?: RpcError) => void }>();
  private nextId = 0;
  private idsWrapped = false;
  private serverMaxFrameBytes = 0;
  private writer!: FrameWriter;
  private reader!: FrameReader;
  private closeReason: RpcError | undefined;
  /** Calls waiting for the socket to take bytes, in order; entries of calls that gave up are skipped. */
  private blocked: { call: PendingCall; payload: string | Uint8Array }[] = [];
  private liveness!: Liveness;
  private ticker: NodeJS.Timeout | undefined;

  /** Set while the handshake runs: ends it with an error (the stream failed or closed). */
  private handshakeFailed: ((err: RpcError) => void) | undefined;

  private constructor(
    private readonly socket: Duplex,
    private readonly options: ClientConnectionOptions,
  ) {
    this.inputs = new InputStreams({
      remote: this.remote,
      codec: options.codec,
      serverMaxFrameBytes: () => this.serverMaxFrameBytes,
      writable: () => this.state !== 'closed',
      write: (kind, id, payload) => this.writer.write(kind, id, payload),
      failCall: (id, err) => this.failCall(id, err),
      strayWindow: (id) => this.strayWindow(id),
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.handshakeFailed?.(unavailable(`cannot connect to ${this.remote}: ${err.code ?? err.message}`));
      this.closeReason ??= unavailable(`connection to ${this.remote} failed: ${err.code ?? err.message}`);
    });
    socket.on('close', () => {
      this.handshakeFailed?.(unavailable(`${this.remote} closed the connection during the handshake${closeHint(options.transportKind)}`));
      this.onClose();
    });
  }

  /**
   * Connects (within the connect timeout), then handshakes (within the handshake timeout); rejects with
   * `UNAVAILABLE` (`timeout: 'connect' | 'handshake'` when timed out). `signal`: the client was closed.
   */
  static async open(options: ClientConnectionOptions, signal?: AbortSignal): Promise<ClientConnection> {
    const conn = new ClientConnection(await connectStream(options, signal), options);
    await conn.handshake(signal);
    return conn;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Streams open on this connection. */
  get streamCount(): number {
    return this.streams.size;
  }

  get remote(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** Sends one request. The caller has checked `isReady`. `nowMs`: `Date.now()`, when the caller has just read it. */
  request(
    service: string,
    method: string,
    args: unknown[],
    deadline: number,
    signal?: AbortSignal,
    metadata?: Record<string, string>,
    nowMs = Date.now(),
  ): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.send(undefined, resolve, reject, service, method, args, deadline, signal, metadata, nowMs),
    );
  }

  /** As {@link request}, the outcome going to `sink` (once, possibly before this returns) instead of a promise. */
  requestInto(
    sink: CallSink,
    service: string,
    method: string,
    args: unknown[],
    deadline: number,
    signal: AbortSignal | undefined,
    metadata: Record<string, string> | undefined,
    nowMs: number,
  ): void {
    this.send(sink, undefined, undefined, service, method, args, deadline, signal, metadata, nowMs);
  }

  /** The outcome goes to `sink`, or to `resolve` and `reject` when there is none. */
  private send(
    sink: CallSink | undefined,
    resolve: ((value: unknown) => void) | undefined,
    reject: ((err: Error) => void) | undefined,
    service: string,
    method: string,
    args: unknown[],
    deadline: number,
    signal: AbortSignal | undefined,
    metadata: Record<string, string> | undefined,
    nowMs: number,
  ): void {
    // The signal may have aborted while the connection was being opened, after the caller last looked.
    if (signal?.aborted) return refuse(sink, reject, cancelledError(`${service}.${method}`, signal, false));
    if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
      return refuse(sink, reject, new RangeError(`${service}.${method}: deadline must be a number (epoch ms), got ${String(deadline)}`));
    }
    // Infinity means no limit: the timer maximum, so that both codecs carry the same finite number.
    const timeoutMs = Math.min(deadline - nowMs, MAX_TIMER_MS);
    if (timeoutMs <= 0) {
      return refuse(
        sink,
        reject,
        new RpcError(RpcCode.DEADLINE_EXCEEDED, `${service}.${method}: deadline exceeded before sending`, {
          timeout: 'call',
          mayHaveRun: false,
        }),
      );
    }
    let payload: string | Uint8Array;
    try {
      payload = this.options.codec.encode(encodeRequest(service, method, args, Math.ceil(timeoutMs), metadata));
    } catch (err) {
      return refuse(
        sink,
        reject,
        new RpcError(RpcCode.INVALID_ARGUMENT, `${service}.${method}: arguments could not be encoded: ${(err as Error).message}`, {
          mayHaveRun: false,
        }),
      );
    }
    if (payloadExceeds(payload, this.serverMaxFrameBytes)) {
      return refuse(
        sink,
        reject,
        new RpcError(
          RpcCode.RESOURCE_EXHAUSTED,
          `${service}.${method}: request of ${byteLength(payload)} bytes exceeds the server's frame limit of ${this.serverMaxFrameBytes} bytes`,
          { mayHaveRun: false },
        ),
      );
    }
    const id = this.allocateId();
    // Past the high-water mark, a call waits its turn (within its deadline) instead of growing the socket's buffer.
    const wait = this.blocked.length > 0 || this.writer.backlogBytes > this.options.outputHighWaterBytes;
    const queuedAt = wait ? NOT_QUEUED : this.writer.flushes;
    const call = new PendingCall(this, id, service, method, queuedAt, timeoutMs, nowMs, signal, sink, resolve, reject);
    this.pending.set(call);
    // A binary payload is a view of the encoder's shared buffer, which the next call's encoding overwrites:
    // one that waits must be its own copy (the writer copies the others at once).
    if (wait) {
      this.blocked.push({ call, payload: typeof payload === 'string' ? payload : Buffer.from(payload) });
      return this.writer.onceTaken();
    }
    // The only call in flight: nothing else is coming to batch it with, beyond what this turn's code sends now.
    if (this.pending.size === 1) this.writer.flushAfterMicrotasks();
    this.writer.write(FrameKind.REQUEST, id, payload);
  }

  /**
   * Opens a server stream (the caller has checked `isReady`): REQUEST, then the first WINDOW. Throws
   * `UNIMPLEMENTED` when the server did not acknowledge streams.
   */
  openStream(
    service: string,
    method: string,
    args: unknown[],
    deadline: number,
    signal?: AbortSignal,
    metadata?: Record<string, string>,
  ): ClientStream {
    const what = `${service}.${method}`;
    if (!this.serverStreams)
      throw new RpcError(RpcCode.UNIMPLEMENTED, `${what}: ${this.remote} does not speak server streams`, { mayHaveRun: false });
    const opened = this.inputs.encodeOpen(what, service, method, args, deadline, signal, metadata);
    return this.startAnswers(this.allocateId(), what, opened, signal);
  }

  /** Sends a stream call's REQUEST and the first WINDOW for its answers; returns the stream they arrive on. */
  private startAnswers(id: number, what: string, opened: OpenedInput, signal: AbortSignal | undefined): ClientStream {
    const window = this.options.streamWindow ?? DEFAULT_STREAM_WINDOW;
    const stream = new ClientStream(this, id, what, opened.timeoutMs, signal, window);
    this.streams.set(stream);
    this.writer.write(FrameKind.REQUEST, id, opened.payload);
    this.sendWindow(id, window.messages, window.bytes);
    return stream;
  }

  /**
   * Opens a client stream (the caller has checked `isReady`): REQUEST with the other arguments, then the
   * items of `input` as the server grants credit. Resolves with the handler's result.
   */
  upload(
    service: string,
    method: string,
    input: unknown,
    args: unknown[],
    deadline: number,
    signal?: AbortSignal,
    metadata?: Record<string, string>,
  ): Promise<unknown> {
    const what = `${service}.${method}`;
    let opened: OpenedInput;
    let id: number;
    let out: OutboundStream;
    try {
      this.checkSpeaks(what, 'client');
      opened = this.inputs.encodeOpen(what, service, method, args, deadline, signal, metadata);
      id = this.allocateId();
      out = this.inputs.add(id, what, input);
    } catch (err) {
      return Promise.reject(err as RpcError);
    }
    return new Promise((resolve, reject) => {
      const ok = (value: unknown): void => {
        this.inputs.stop(id);
        resolve(value);
      };
      const fail = (err: RpcError): void => {
        this.inputs.stop(id);
        reject(err);
      };
      this.pending.set(
        new PendingCall(this, id, service, method, this.writer.flushes, opened.timeoutMs, Date.now(), signal, undefined, ok, fail),
      );
      this.writer.write(FrameKind.REQUEST, id, opened.payload);
      out.start();
    });
  }

  /** Opens a bidi stream (the caller has checked `isReady`): the items of `input` go out as for `upload`, the answers come back as for `openStream`. */
  openBidi(
    service: string,
    method: string,
    input: unknown,
    args: unknown[],
    deadline: number,
    signal?: AbortSignal,
    metadata?: Record<string, string>,
  ): ClientStream {
    const what = `${service}.${method}`;
    this.checkSpeaks(what, 'bidi');
    const opened = this.inputs.encodeOpen(what, service, method, args, deadline, signal, metadata);
    const id = this.allocateId();
    const out = this.inputs.add(id, what, input);
    const stream = this.startAnswers(id, what, opened, signal);
    out.start();
    return stream;
  }

  private checkSpeaks(what: string, kind: 'client' | 'bidi'): void {
    if (this.serverClientStreams && (kind === 'client' || this.serverStreams)) return;
    throw new RpcError(RpcCode.UNIMPLEMENTED, `${what}: ${this.remote} does not speak ${kind} streams`, { mayHaveRun: false });
  }

  /**
   * The server granted credit for items to a call that sends none: the method takes a stream (a unary or
   * server-stream call by name to a client or bidi method), and would wait for items until its deadline.
   * A grant racing the end of a call is ignored.
   */
  private strayWindow(id: number): void {
    const what = this.pending.get(id)?.what ?? this.streams.get(id)?.what;
    if (what === undefined) return;
    const how = 'call it through a proxy, or with clientStream() or bidiStream()';
    this.failCall(id, new RpcError(RpcCode.INVALID_ARGUMENT, `${what} takes a stream of items as its first argument: ${how}`));
  }

  /** A client or bidi stream's input failed on this side: cancel the call on the server, fail it with `err`. */
  private failCall(id: number, err: RpcError): void {
    const call = this.pending.get(id);
    const stream = this.streams.get(id);
    if (call !== undefined) {
      this.abandon(id);
      call.reject(err);
    } else if (stream !== undefined) {
      this.streams.delete(id);
      if (this.state !== 'closed') this.writer.write(FrameKind.CANCEL, id, undefined);
      stream.end(err);
    }
    if (this.state === 'draining' && this.pending.size === 0 && this.streams.size === 0) this.close();
  }

  sendWindow(id: number, messages: number, bytes: number): void {
    if (this.state !== 'closed') this.writer.write(FrameKind.WINDOW, id, this.options.codec.encode([messages, bytes]));
  }

  abandonStream(id: number): void {
    this.inputs.stop(id);
    if (this.streams.delete(id) && this.state !== 'closed') this.writer.write(FrameKind.CANCEL, id, undefined);
    if (this.state === 'draining' && this.pending.size === 0 && this.streams.size === 0) this.close();
  }

  /** The socket drained (or took everything queued): send waiting calls while there is room. */
  private sendBlocked(): void {
    let sent = 0;
    while (sent < this.blocked.length && this.writer.backlogBytes <= this.options.outputHighWaterBytes && this.state !== 'closed') {
      const { call, payload } = this.blocked[sent++];
      if (this.pending.get(call.id) !== call) continue; // it gave up (deadline, cancel) meanwhile
      call.queuedAt = this.writer.flushes;
      this.writer.write(FrameKind.REQUEST, call.id, payload);
    }
    this.blocked = this.blocked.slice(sent);
    if (this.blocked.length > 0 && this.state !== 'closed') this.writer.onceTaken();
  }

  /** Round trip time of a PING, ms. */
  ping(timeoutMs: number): Promise<number> {
    const id = this.allocateId();
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const done = (err?: RpcError): void => {
        clearTimeout(timer);
        this.pings.delete(id);
        if (err) reject(err);
        else resolve(Number(process.hrtime.bigint() - started) / 1e6);
      };
      const timer = unrefTimer(
        setTimeout(
          () => done(new RpcError(RpcCode.DEADLINE_EXCEEDED, 'ping: no pong in time', { timeout: 'call' })),
          clampDelay(timeoutMs),
        ),
      );
      this.pings.set(id, { timer, done });
      this.writer.write(FrameKind.PING, id, undefined);
    });
  }

  abandon(id: number): void {
    const call = this.pending.get(id);
    // A call still waiting for room was never sent: there is nothing to cancel on the server.
    if (this.pending.delete(id) && this.state !== 'closed' && call?.queued) this.writer.write(FrameKind.CANCEL, id, undefined);
  }

  /** Closes now; pending calls fail with `err` (default: `CANCELLED`, client closed). */
  close(err?: RpcError): void {
    this.closeReason ??= err ?? new RpcError(RpcCode.CANCELLED, 'client closed');
    // Nothing more is read: frames after a fatal one in the same chunk must not settle calls.
    this.reader?.stop();
    this.writer?.flush();
    this.socket.destroy();
  }

  private allocateId(): number {
    // Until the ids wrap around, each is new: the three lookups per call are paid only after 2^32 - 1 calls.
    if (!this.idsWrapped && this.nextId < MAX_REQUEST_ID) return ++this.nextId;
    this.idsWrapped = true;
    do {
      this.nextId = this.nextId >= MAX_REQUEST_ID ? 1 : this.nextId + 1;
    } while (this.pending.has(this.nextId) || this.pings.has(this.nextId) || this.streams.has(this.nextId));
    return this.nextId;
  }

  /** The HTTP tunnel's CONNECT when asked for, then the preface exchange; the stream is connected already. */
  private handshake(signal: AbortSignal | undefined): Promise<void> {
    const { socket, options } = this;
    return new Promise((resolve, reject) => {
      let received: Buffer = Buffer.alloc(0);
      let tunnelling = options.httpTunnel === true;
      const preface = encodePreface({
        version: PROTOCOL_VERSION,
        codec: options.codec.id,
        status: PrefaceFlags.STREAMS | PrefaceFlags.CLIENT_STREAMS,
        maxFrameBytes: options.maxFrameBytes,
      });
      const finish = (err?: RpcError): void => {
        if (this.handshakeFailed === undefined) return;
        this.handshakeFailed = undefined;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('data', onData);
        if (err === undefined) return resolve();
        socket.destroy();
        reject(err);
      };
      const onAbort = (): void => finish(closedWhileConnecting());
      const onData = (chunk: Buffer): void => {
        // A copy: the chunk may be a view of a read buffer that the next read overwrites (chunksAreTransient).
        received = Buffer.concat([received, chunk]);
        if (tunnelling) {
          const answer = readTunnelAnswer(received);
          if (answer === undefined) return;
          if (typeof answer === 'string') return finish(unavailable(`${this.remote} refused the HTTP tunnel: ${answer}`));
          tunnelling = false;
          received = answer;
          socket.write(preface);
          if (received.length === 0) return;
        }
        const verdict = this.readServerPreface(received);
        if (verdict === undefined) return;
        if (verdict instanceof RpcError) return finish(verdict);
        finish();
        this.becomeReady(received.subarray(verdict));
      };
      this.handshakeFailed = finish;
      const timer = unrefTimer(
        setTimeout(
          () => finish(unavailable(`no MyRPC preface from ${this.remote} within ${options.handshakeTimeoutMs} ms`, 'handshake')),
          options.handshakeTimeoutMs,
        ),
      );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('data', onData);
      socket.write(tunnelling ? tunnelRequest(this.remote) : preface);
    });
  }

  /** undefined: need more bytes; a number: preface bytes consumed; an RpcError: refused. */
  private readServerPreface(bytes: Buffer): number | RpcError | undefined {
    const seen = bytes.subarray(0, Math.min(MAGIC.length, bytes.length));
    if (!MAGIC.subarray(0, seen.length).equals(seen)) {
      const sample = JSON.stringify(bytes.toString('latin1', 0, 16));
      return unavailable(`${this.remote} is not a MyRPC server (it answered ${sample})`);
    }
    if (bytes.length < PREFACE_BYTES) return undefined;
    const preface = decodePreface(bytes);
    // A server that speaks streams acknowledges those it speaks; an older one answers a plain 0.
    const accepted = (preface.status & PrefaceFlags.FEATURES_ACCEPTED) !== 0;
    this.serverStreams = accepted && (preface.status & PrefaceFlags.STREAMS) !== 0;
    this.serverClientStreams = accepted && (preface.status & PrefaceFlags.CLIENT_STREAMS) !== 0;
    if (preface.status !== PrefaceStatus.OK && !accepted) {
      if (bytes.length < PREFACE_BYTES + 2) return undefined;
      const n = bytes.readUInt16BE(PREFACE_BYTES);
      if (bytes.length < PREFACE_BYTES + 2 + n) return undefined;
      const reason = bytes.toString('utf8', PREFACE_BYTES + 2, PREFACE_BYTES + 2 + n);
      return new RpcError(RpcCode.FAILED_PRECONDITION, `${this.remote} refused the connection: ${reason}`, { mayHaveRun: false });
    }
    if (preface.version !== PROTOCOL_VERSION || preface.codec !== this.options.codec.id) {
      return new RpcError(
        RpcCode.FAILED_PRECONDITION,
        `${this.remote} answered with protocol version ${preface.version} and codec ${preface.codec}; asked for ${PROTOCOL_VERSION} and ${this.options.codec.id}`,
        { mayHaveRun: false },
      );
    }
    this.serverMaxFrameBytes = preface.maxFrameBytes;
    return PREFACE_BYTES;
  }

  private becomeReady(rest: Buffer): void {
    this.state = 'ready';
    this.writer = new FrameWriter(this.socket, {
      writeTimeoutMs: this.options.writeTimeoutMs,
      onWriteTimeout: () =>
        this.close(
          unavailable(
            `${this.remote} did not take our bytes for ${this.options.writeTimeoutMs} ms (write timeout: under 64 KiB taken)`,
            'write',
          ),
        ),
      onDrain: () => this.sendBlocked(),
    });
    this.reader = new FrameReader(
      { onFrame: (kind, id, payload) => this.onFrame(kind, id, payload) },
      this.options.maxFrameBytes,
      chunksAreTransient(this.socket),
    );
    const o = this.options;
    this.liveness = new Liveness(o);
    this.ticker = unrefTimer(setInterval(() => this.tick(), livenessTickMs(o.frameStallTimeoutMs, o.keepaliveMs, o.keepaliveTimeoutMs)));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (rest.length > 0) this.onData(rest);
  }

  private onData(chunk: Buffer): void {
    this.liveness.onBytes(this.reader.midFrame);
    try {
      this.reader.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.close(unavailable(`broken stream from ${this.remote}: ${err.message}`));
    }
  }

  /** Keepalive and the incomplete-frame stall clock. */
  private tick(): void {
    const o = this.options;
    switch (this.liveness.check(Date.now(), this.reader.midFrame, true, true)) {
      case 'stalled':
      case 'squeezed':
        return this.close(
          unavailable(`an incomplete frame from ${this.remote} received no byte for ${o.frameStallTimeoutMs} ms (frame stall timeout)`),
        );
      case 'silent':
        return this.close(
          unavailable(`no answer to PING from ${this.remote} within ${o.keepaliveTimeoutMs} ms (keepalive timeout)`, 'keepalive'),
        );
      case 'ping':
        // Id 0 is never a call's: the answer is any byte at all, not a PONG matched by id.
        this.writer.write(FrameKind.PING, 0, undefined);
    }
  }

  private onFrame(kind: FrameKind, id: number, payload: Buffer): void {
    this.liveness.onFrame();
    switch (kind) {
      case FrameKind.RESPONSE:
        return this.settle(id, payload, false);
      case FrameKind.ERROR:
        if (id === 0) return this.onConnectionError(payload);
        if (this.streams.has(id)) return this.onStreamFrame(kind, id, payload);
        return this.settle(id, payload, true);
      case FrameKind.STREAM_ITEM:
      case FrameKind.STREAM_END:
        return this.onStreamFrame(kind, id, payload);
      case FrameKind.PONG:
        return this.onPong(id);
      case FrameKind.PING:
        return this.writer.write(FrameKind.PONG, id, undefined);
      case FrameKind.GOAWAY:
        return this.onGoAway(payload);
      case FrameKind.WINDOW:
        return this.inputs.onWindow(id, payload);
      default:
        return this.close(unavailable(`unexpected frame kind ${kind} from ${this.remote}`));
    }
  }

  private settle(id: number, payload: Buffer, isError: boolean): void {
    const call = this.pending.get(id);
    if (!call) return; // a late answer to a call that was cancelled or timed out
    this.pending.delete(id);
    let value: unknown;
    try {
      value = this.options.codec.decode(payload);
    } catch {
      return call.reject(new RpcError(RpcCode.INTERNAL, `${call.what}: malformed ${isError ? 'error' : 'response'} payload from server`));
    }
    if (isError) call.reject(RpcError.fromWire(value));
    else call.resolve(value);
    if (this.state === 'draining' && this.pending.size === 0 && this.streams.size === 0) this.close();
  }

  private onStreamFrame(kind: FrameKind, id: number, payload: Buffer): void {
    const stream = this.streams.get(id);
    if (!stream) return; // a late frame of a stream the consumer left
    let value: unknown;
    try {
      value = this.options.codec.decode(payload);
    } catch {
      this.streams.delete(id);
      this.inputs.stop(id);
      this.writer.write(FrameKind.CANCEL, id, undefined);
      return stream.end(
        new RpcError(RpcCode.INTERNAL, `${stream.what}: malformed stream payload from server after ${stream.delivered} items`),
      );
    }
    if (kind === FrameKind.STREAM_ITEM) return stream.push(value, payload.length);
    this.streams.delete(id);
    this.inputs.stop(id);
    stream.end(kind === FrameKind.ERROR ? RpcError.fromWire(value) : undefined);
    if (this.state === 'draining' && this.pending.size === 0 && this.streams.size === 0) this.close();
  }

  private onPong(id: number): void {
    this.pings.get(id)?.done();
  }

  private onConnectionError(payload: Buffer): void {
    let err: RpcError;
    try {
      err = RpcError.fromWire(this.options.codec.decode(payload));
    } catch {
      err = new RpcError(RpcCode.INTERNAL, 'malformed connection error from server');
    }
    this.closeReason ??= unavailable(`${this.remote} closed the connection: ${err.code}: ${err.message}`);
  }

  private onGoAway(payload: Buffer): void {
    let reason = 'server going away';
    try {
      const decoded = this.options.codec.decode(payload) as { reason?: unknown } | undefined;
      if (typeof decoded?.reason === 'string') reason = decoded.reason;
    } catch {
      // a GOAWAY without a readable reason is still a GOAWAY
    }
    if (this.state !== 'ready') return;
    this.state = 'draining';
    this.options.onGoAway(this, reason);
    if (this.pending.size === 0 && this.streams.size === 0) this.close();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state !== 'handshake';
    this.state = 'closed';
    clearInterval(this.ticker);
    this.deadlines.close();
    this.blocked = [];
    this.writer?.close();
    const reason = this.closeReason ?? unavailable(`connection to ${this.remote} lost`);
    const calls = this.pending.values();
    this.pending.clear();
    for (const call of calls) {
      const mayHaveRun = call.queued && call.queuedAt < this.writer.flushes;
      call.reject(
        new RpcError(reason.code, `${call.what}: ${reason.message}`, { mayHaveRun, timeout: reason.timeout, details: reason.details }),
      );
    }
    for (const ping of [...this.pings.values()]) ping.done(reason);
    this.inputs.stopAll();
    const streams = this.streams.values();
    this.streams.clear();
    for (const s of streams)
      s.end(new RpcError(reason.code, `${s.what}: ${reason.message} (after ${s.delivered} items)`, { timeout: reason.timeout }));
    if (wasOpen) this.options.onClose(this, this.closeReason?.code === RpcCode.CANCELLED ? undefined : reason);
  }
}

/**
 * Opens the stream through the connector within the connect timeout; `signal` aborts it (the client closed).
 * A stream that arrives after the attempt was given up is destroyed.
 */
async function connectStream(o: ClientConnectionOptions, signal: AbortSignal | undefined): Promise<Duplex> {
  const remote = `${o.host}:${o.port}`;
  if (signal?.aborted) throw closedWhileConnecting();
  const attempt = new AbortController();
  const timer = unrefTimer(
    setTimeout(
      () => attempt.abort(unavailable(`connect to ${remote} timed out after ${o.connectTimeoutMs} ms`, 'connect')),
      o.connectTimeoutMs,
    ),
  );
  const onAbort = (): void => attempt.abort(closedWhileConnecting());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const stream = await o.connector({ host: o.host, port: o.port }, attempt.signal);
    if (attempt.signal.aborted) {
      stream.destroy();
      throw attempt.signal.reason;
    }
    return stream;
  } catch (err) {
    if (RpcError.is(err)) throw err;
    if (attempt.signal.aborted) throw attempt.signal.reason;
    const e = err as NodeJS.ErrnoException;
    throw unavailable(`cannot connect to ${remote}: ${e.code ?? e.message}`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function closedWhileConnecting(): RpcError {
  return new RpcError(RpcCode.UNAVAILABLE, 'client closed while connecting', { mayHaveRun: false });
}

/** What a close during the handshake most often means, so the error says where to look. */
function closeHint(kind: ClientConnectionOptions['transportKind']): string {
  if (kind === 'tls') return ' (a TLS server closes like this when it refuses or requires a client certificate)';
  if (kind === 'tcp') return ' (if it is a TLS port, give the client a tls option)';
  return '';
}

function unavailable(message: string, timeout?: 'connect' | 'handshake' | 'write' | 'keepalive'): RpcError {
  return new RpcError(RpcCode.UNAVAILABLE, message, { mayHaveRun: false, timeout });
}

function byteLength(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
}
