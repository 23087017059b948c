import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Codec } from '../codec/codec';
import type { CodecRegistry } from '../codec/codec-registry';
import { RpcCode, RpcError } from '../errors/rpc-error';
import {
  encodePreface,
  FrameKind,
  MAGIC,
  PREFACE_BYTES,
  PrefaceFlags,
  PROTOCOL_VERSION,
  PrefaceStatus,
  type Preface,
} from '../protocol/frame';
import { ServerStream, type StreamOwner } from '../stream/server-stream';
import { InboundTable } from '../stream/inbound-table';
import { DEFAULT_STREAM_WINDOW, type StreamWindow } from '../stream/stream-window';
import { FrameError, FrameReader } from '../protocol/frame-reader';
import { FrameWriter, payloadExceeds } from '../protocol/frame-writer';
import { fitErrorPayload } from '../protocol/error-fit';
import { Liveness, livenessTickMs } from '../protocol/liveness';
import { parseRequest, type RequestMessage } from '../protocol/request';
import { BUDGET_FREE_BYTES, MIN_PEER_FRAME_BYTES } from '../util/limits';
import { unrefTimer } from '../util/timers';
import type { CallTransport } from '../interceptors/interceptor';
import { peerIdentityOf, type PeerIdentity } from '../transport/peer-identity';
import type { ByteBudget } from './byte-budget';
import type { MethodEntry, MethodTable } from './method-table';
import { DeadlineQueue } from '../util/deadline-queue';
import { IdTable } from '../util/id-table';
import { ServerCall, type CallOwner } from './server-call';

export interface ServerConnectionSettings {
  readonly table: MethodTable;
  readonly codecs: CodecRegistry;
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly handleTimeoutMs: number;
  readonly writeTimeoutMs: number;
  /** Output queued for the connection above which it is not read until the output drains. */
  readonly outputHighWaterBytes: number;
  /** Calls running at once on the connection; at the limit it is not read until one ends. */
  readonly maxConcurrentCalls: number;
  /** An incomplete frame that receives no byte for this long drops the connection. */
  readonly frameStallTimeoutMs: number;
  /** PING a connection that sent nothing for this long (0: never). */
  readonly keepaliveMs: number;
  /** Drop a connection that sends nothing for this long after a PING. */
  readonly keepaliveTimeoutMs: number;
  /** Close (GOAWAY) a connection with no call for this long (0: never). */
  readonly idleTimeoutMs: number;
  /** Server-wide bytes held in incomplete frames and output. */
  readonly budget: ByteBudget;
  /** The window granted to each client or bidi stream's input (default 256 items, 1 MiB). */
  readonly streamWindow?: StreamWindow;
  /** A peer broke the protocol (bad preface, broken frame, truncated stream). */
  onClientError(err: RpcError, peer: string): void;
  onHandlerError(err: unknown, service: string, method: string): void;
  onClosed(conn: ServerConnection): void;
  /** Called when the last in-flight call of a draining connection ends. */
  onIdle(conn: ServerConnection): void;
}

/** How long a half-closed connection may wait for the peer to close its side, ms. */
const LINGER_MS = 2000;

const HTTP_ANSWER =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n' +
  'This port speaks the MyRPC binary protocol over TCP, not HTTP. See docs/PROTOCOL.md.\n';

/** Why reading is paused: our output is backed up, too many calls run, or the server-wide budget is spent. */
type PauseReason = 'output' | 'calls' | 'budget';

/** One accepted socket: preface, then frames; keeps the calls in flight on it. */
export class ServerConnection implements CallOwner, StreamOwner {
  readonly peer: string;
  readonly peerIdentity: PeerIdentity | undefined;
  private state: 'preface' | 'open' | 'closed' = 'preface';
  private prefaceBytes: Buffer = Buffer.alloc(0);
  private handshakeTimer: NodeJS.Timeout | undefined;
  private codec!: Codec;
  private peerMaxFrameBytes = 0;
  private reader: FrameReader | undefined;
  private writer: FrameWriter | undefined;
  private readonly calls = new IdTable<ServerCall | ServerStream>();
  /** Deadlines of the calls whose handlers went asynchronous: one timer for all of them. */
  readonly deadlines = new DeadlineQueue();
  /** The client announced server streams in its preface. */
  private streams = false;
  /** The client announced client and bidi streams in its preface. */
  private clientStreams = false;
  private readonly inputs: InboundTable;
  /** Calls in flight that exchange stream frames (server, client and bidi streams). */
  private readonly streamIds = new Set<number>();
  private draining = false;
  private paused: PauseReason | undefined;
  private resumeScheduled = false;
  /** What this connection counts in the server-wide budget. */
  private budgetedBytes = 0;
  /** Payload bytes of client-stream items waiting for their handlers. */
  private inputBytes = 0;
  private readonly liveness: Liveness;
  private lastCallAt = Date.now();
  private ticker: NodeJS.Timeout | undefined;
  private readonly wake = (): void => this.scheduleResume();

  constructor(
    private readonly socket: Duplex,
    private readonly settings: ServerConnectionSettings,
    /** `tunnel` for a socket handed over by the HTTP gateway's CONNECT. */
    readonly transport: CallTransport = 'tcp',
  ) {
    const net = socket as Partial<Socket>; // any connected Duplex will do; a socket also tells its address
    this.peer = net.remoteAddress ? `${net.remoteAddress}:${net.remotePort ?? '?'}` : 'memory';
    this.peerIdentity = peerIdentityOf(socket);
    this.liveness = new Liveness(settings);
    this.inputs = new InboundTable(this, settings.streamWindow ?? DEFAULT_STREAM_WINDOW);
    // Not every transport is a TCP socket (TLS, in-memory pairs).
    net.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows; the calls are aborted there
    socket.on('close', () => this.onClose());
    this.handshakeTimer = unrefTimer(
      setTimeout(
        () => this.dropPeer(`no preface within ${settings.handshakeTimeoutMs} ms (handshake timeout)`),
        settings.handshakeTimeoutMs,
      ),
    );
  }

  get inFlight(): number {
    return this.calls.size;
  }

  /** Tells the client to start no new calls here; closes at once when nothing is in flight. */
  goAway(reason: string): void {
    if (this.draining) return;
    this.draining = true;
    if (this.state !== 'open') return this.destroy();
    this.writer?.write(FrameKind.GOAWAY, 0, this.codec.encode({ reason }));
    this.writer?.flush();
    if (this.calls.size === 0) this.end();
  }

  /** Shutdown's grace period is over: abort every call, tell each client, close. */
  abortAll(): void {
    for (const call of this.calls.values()) call.abortForShutdown();
    this.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  sendResult(id: number, result: unknown): RpcCode | undefined {
    let payload: string | Uint8Array;
    try {
      payload = this.codec.encode(result);
    } catch {
      this.sendError(id, new RpcError(RpcCode.INTERNAL, 'the result could not be encoded'));
      return RpcCode.INTERNAL;
    }
    if (payloadExceeds(payload, this.peerMaxFrameBytes)) {
      this.sendError(
        id,
        new RpcError(RpcCode.RESOURCE_EXHAUSTED, `the result exceeds the client's frame limit of ${this.peerMaxFrameBytes} bytes`),
      );
      return RpcCode.RESOURCE_EXHAUSTED;
    }
    this.writer?.write(FrameKind.RESPONSE, id, payload);
    return undefined;
  }

  sendItem(id: number, item: unknown): number | RpcError {
    let payload: string | Uint8Array;
    try {
      payload = this.codec.encode(item);
    } catch {
      return new RpcError(RpcCode.INTERNAL, 'a stream item could not be encoded');
    }
    if (payloadExceeds(payload, this.peerMaxFrameBytes)) {
      return new RpcError(RpcCode.RESOURCE_EXHAUSTED, `a stream item exceeds the client's frame limit of ${this.peerMaxFrameBytes} bytes`);
    }
    this.writer?.write(FrameKind.STREAM_ITEM, id, payload);
    return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  }

  sendEnd(id: number): void {
    this.writer?.write(FrameKind.STREAM_END, id, undefined);
  }

  /** `notRun`: the request was refused before any of it ran, so a client may safely send it elsewhere. */
  sendError(id: number, err: RpcError, notRun = false): void {
    // Cut to fit the client's limit: an oversized frame would make it fail every call on the connection.
    const payload = fitErrorPayload(this.codec, err.toWire(notRun), this.peerMaxFrameBytes);
    if (payload !== undefined) this.writer?.write(FrameKind.ERROR, id, payload);
  }

  sendWindow(id: number, messages: number, bytes: number): void {
    this.writer?.write(FrameKind.WINDOW, id, this.codec.encode([messages, bytes]));
  }

  inputHeld(deltaBytes: number): void {
    this.inputBytes += deltaBytes;
    if (this.state !== 'open') return;
    if (deltaBytes > 0) return this.checkPressure(); // may pause the reader mid-chunk, before the next item
    this.account(); // releases budget, waking connections paused for it
    this.scheduleResume();
  }

  release(id: number): void {
    this.calls.delete(id);
    // Only stream calls are in streamIds, and only they have inputs: a unary call pays one size check here.
    if (this.streamIds.size > 0 && this.streamIds.delete(id)) this.inputs.release(id);
    if (this.paused === 'calls') this.scheduleResume();
    // The call writes its answer right after release(): end the connection only once that answer is queued.
    if (this.draining && this.calls.size === 0) queueMicrotask(() => this.settings.onIdle(this));
  }

  onHandlerError(err: unknown, call: ServerCall | string, method?: string): void {
    if (typeof call === 'string') this.settings.onHandlerError(err, call, method ?? '');
    else this.settings.onHandlerError(err, call.service, call.method);
  }

  /** Flushes what is queued and half-closes; the client closes its side in answer. */
  end(last?: Buffer | string): void {
    this.writer?.flush();
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
    // A peer that never closes its side must not hold the socket open for ever; a socket that closes disarms it.
    if (this.socket.destroyed) return;
    const linger = unrefTimer(setTimeout(() => this.socket.destroy(), LINGER_MS));
    this.socket.once('close', () => clearTimeout(linger));
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'open') {
      this.liveness.onBytes(this.reader?.midFrame === true);
      return this.pushFrames(chunk);
    }
    if (this.state === 'preface') this.onPrefaceData(chunk);
  }

  private pushFrames(chunk: Buffer): void {
    // The chunk's answers from synchronous handlers, and from handlers done within the promise jobs queued while
    // it is read (an async handler with nothing to wait for), go out in one write as soon as those jobs have
    // run; later answers wait for the turn's end.
    this.writer?.beginBurst();
    try {
      this.reader?.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      const code = err.reason === 'FRAME_TOO_LARGE' ? RpcCode.RESOURCE_EXHAUSTED : RpcCode.INVALID_ARGUMENT;
      this.failConnection(new RpcError(code, err.message));
    } finally {
      this.writer?.endBurst();
    }
    this.checkPressure();
  }

  /** Counts what this connection holds in the server-wide budget. */
  private account(): number {
    const held = this.state === 'open' ? (this.reader?.heldBytes ?? 0) + (this.writer?.backlogBytes ?? 0) + this.inputBytes : 0;
    this.settings.budget.add(held - this.budgetedBytes);
    this.budgetedBytes = held;
    return held;
  }

  private pressure(): PauseReason | undefined {
    const held = this.account();
    if ((this.writer?.backlogBytes ?? 0) > this.settings.outputHighWaterBytes) return 'output';
    // Open streams need their WINDOW and item frames read to make progress: with streams in flight the
    // connection is read on, and requests over the limit are refused instead (onRequest).
    if (this.calls.size >= this.settings.maxConcurrentCalls && this.streamIds.size === 0) return 'calls';
    if (this.settings.budget.exhausted && held > BUDGET_FREE_BYTES) return 'budget';
    return undefined;
  }

  /** Stops reading (the peer's sends back up in TCP) while our output, calls or the server's budget are full. */
  private checkPressure(): void {
    if (this.state !== 'open') return;
    const reason = this.pressure();
    if (reason === undefined || this.paused !== undefined) return;
    this.paused = reason;
    this.reader?.pause();
    this.socket.pause();
    if (reason === 'budget') this.squeeze();
    else if (reason === 'output') this.writer?.onceTaken();
  }

  /** Paused for the server-wide budget: the frame in progress must now complete within the stall timeout. */
  private squeeze(): void {
    this.liveness.squeeze();
    this.settings.budget.wait(this.wake);
  }

  /** Deferred, so that a call ending inside a frame being handled never re-enters the reader. */
  private scheduleResume(): void {
    if (this.paused === undefined || this.resumeScheduled) return;
    this.resumeScheduled = true;
    setImmediate(() => {
      this.resumeScheduled = false;
      this.tryResume();
    });
  }

  private tryResume(): void {
    if (this.paused === undefined || this.state !== 'open') return;
    const reason = this.pressure();
    if (reason !== undefined) {
      this.paused = reason;
      if (reason === 'budget') this.squeeze();
      else if (reason === 'output') this.writer?.onceTaken();
      return;
    }
    this.paused = undefined;
    this.settings.budget.unwait(this.wake);
    this.socket.resume();
    this.reader?.resume();
    this.checkPressure();
  }

  private onDrain(): void {
    this.account();
    this.scheduleResume();
  }

  /** The stall, keepalive and idle clocks; see docs/LIMITS.md. */
  private tick(): void {
    if (this.state !== 'open') return;
    // Output is counted when requests arrive and on 'drain'; a write that never needed a drain is settled here.
    this.account();
    const s = this.settings;
    const now = Date.now();
    const paused = this.paused;
    switch (this.liveness.check(now, this.reader?.midFrame === true, paused === undefined || paused === 'budget', paused === undefined)) {
      case 'stalled':
        return this.dropPeer(`an incomplete frame received no byte for ${s.frameStallTimeoutMs} ms (frame stall timeout)`);
      case 'squeezed':
        return this.dropPeer(
          `an incomplete frame held under the server-wide budget did not complete within ${s.frameStallTimeoutMs} ms (frame stall timeout)`,
        );
      case 'silent':
        return this.dropPeer(`no answer to PING within ${s.keepaliveTimeoutMs} ms (keepalive timeout)`);
      case 'ping':
        this.writer?.write(FrameKind.PING, 0, undefined);
    }
    if (s.idleTimeoutMs > 0 && this.calls.size === 0 && now - this.lastCallAt > s.idleTimeoutMs) {
      this.goAway(`no call for ${s.idleTimeoutMs} ms (idle timeout)`);
    }
  }

  private onPrefaceData(chunk: Buffer): void {
    this.prefaceBytes = this.prefaceBytes.length === 0 ? chunk : Buffer.concat([this.prefaceBytes, chunk]);
    const seen = this.prefaceBytes.subarray(0, Math.min(MAGIC.length, this.prefaceBytes.length));
    if (!MAGIC.subarray(0, seen.length).equals(seen)) {
      // An HTTP method can arrive a letter at a time: wait for a space before telling HTTP from garbage.
      const text = this.prefaceBytes.toString('latin1', 0, 8);
      if (this.prefaceBytes.length < 8 && /^[A-Z]+$/.test(text)) return;
      return this.rejectMagic(text);
    }
    if (this.prefaceBytes.length < PREFACE_BYTES) return;
    clearTimeout(this.handshakeTimer);
    const rest = this.prefaceBytes.subarray(PREFACE_BYTES);
    const preface = this.prefaceBytes.subarray(0, PREFACE_BYTES);
    this.prefaceBytes = Buffer.alloc(0);
    if (this.acceptPreface(preface) && rest.length > 0) this.pushFrames(rest);
  }

  private acceptPreface(bytes: Buffer): boolean {
    const version = bytes[5];
    const codec = this.settings.codecs.byIdOf(bytes[6]);
    const reply: Preface = {
      version: PROTOCOL_VERSION,
      codec: bytes[6],
      status: PrefaceStatus.OK,
      maxFrameBytes: this.settings.maxFrameBytes,
    };
    if (version !== PROTOCOL_VERSION) {
      return this.refusePreface(
        { ...reply, status: PrefaceStatus.UNSUPPORTED_VERSION },
        `unsupported protocol version ${version}; this server speaks ${PROTOCOL_VERSION}`,
      );
    }
    if (!codec) return this.refusePreface({ ...reply, status: PrefaceStatus.UNSUPPORTED_CODEC }, `unsupported codec id ${bytes[6]}`);
    const peerMaxFrameBytes = bytes.readUInt32BE(8);
    if (peerMaxFrameBytes < MIN_PEER_FRAME_BYTES) {
      const why = `maxFrameBytes ${peerMaxFrameBytes} is below the minimum of ${MIN_PEER_FRAME_BYTES} bytes`;
      return this.refusePreface({ ...reply, status: PrefaceStatus.FRAME_LIMIT_TOO_SMALL }, why);
    }
    this.codec = codec;
    this.peerMaxFrameBytes = peerMaxFrameBytes;
    this.state = 'open';
    // Old clients send 0 here and get status 0; a client that announces streams gets them acknowledged.
    this.streams = (bytes[7] & PrefaceFlags.STREAMS) !== 0;
    this.clientStreams = (bytes[7] & PrefaceFlags.CLIENT_STREAMS) !== 0;
    const features = bytes[7] & (PrefaceFlags.STREAMS | PrefaceFlags.CLIENT_STREAMS);
    if (features !== 0) reply.status = PrefaceFlags.FEATURES_ACCEPTED | features;
    this.socket.write(encodePreface(reply));
    const settings = this.settings;
    this.writer = new FrameWriter(this.socket, {
      writeTimeoutMs: settings.writeTimeoutMs,
      onWriteTimeout: () => this.dropPeer(`the client did not read for ${settings.writeTimeoutMs} ms (write timeout: under 64 KiB taken)`),
      onDrain: () => this.onDrain(),
    });
    this.reader = new FrameReader({ onFrame: (kind, id, payload) => this.onFrame(kind, id, payload) }, settings.maxFrameBytes);
    const tickMs = livenessTickMs(settings.frameStallTimeoutMs, settings.keepaliveMs, settings.keepaliveTimeoutMs, settings.idleTimeoutMs);
    this.ticker = unrefTimer(setInterval(() => this.tick(), tickMs));
    return true;
  }

  private refusePreface(reply: Preface, reason: string): false {
    this.state = 'closed';
    this.settings.onClientError(new RpcError(RpcCode.FAILED_PRECONDITION, reason), this.peer);
    this.end(encodePreface(reply, reason));
    return false;
  }

  private rejectMagic(firstBytes: string): void {
    clearTimeout(this.handshakeTimer);
    this.state = 'closed';
    if (/^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE) /.test(firstBytes)) {
      this.settings.onClientError(new RpcError(RpcCode.INVALID_ARGUMENT, 'plain HTTP request on the MyRPC port'), this.peer);
      this.end(HTTP_ANSWER);
      return;
    }
    const reason = 'bad magic: this is a MyRPC server and the peer did not send the MyRPC preface';
    this.settings.onClientError(new RpcError(RpcCode.INVALID_ARGUMENT, reason), this.peer);
    const reply: Preface = {
      version: PROTOCOL_VERSION,
      codec: 0,
      status: PrefaceStatus.BAD_MAGIC,
      maxFrameBytes: this.settings.maxFrameBytes,
    };
    this.end(encodePreface(reply, reason));
  }

  private onFrame(kind: FrameKind, id: number, payload: Buffer): void {
    this.liveness.onFrame();
    switch (kind) {
      case FrameKind.REQUEST:
        this.onRequest(id, payload);
        return this.checkPressure();
      case FrameKind.CANCEL:
        return this.calls.get(id)?.cancel('cancelled by the client');
      case FrameKind.PING:
        return this.writer?.write(FrameKind.PONG, id, undefined);
      case FrameKind.WINDOW:
        return this.onWindow(id, payload);
      case FrameKind.STREAM_ITEM:
      case FrameKind.STREAM_END:
        if (this.clientStreams) return this.onInput(kind, id, payload);
        return this.failConnection(new RpcError(RpcCode.INVALID_ARGUMENT, `unexpected frame kind ${kind} from a client`));
      case FrameKind.PONG:
      case FrameKind.ERROR:
        return;
      default:
        return this.failConnection(new RpcError(RpcCode.INVALID_ARGUMENT, `unexpected frame kind ${kind} from a client`));
    }
  }

  private onRequest(id: number, payload: Buffer): void {
    if (id === 0)
      return this.failConnection(new RpcError(RpcCode.INVALID_ARGUMENT, 'request id 0 is reserved for connection-level errors'));
    this.lastCallAt = this.liveness.lastByteMs;
    if (this.calls.has(id)) return this.sendError(id, new RpcError(RpcCode.INVALID_ARGUMENT, `request id ${id} is already in flight`));
    let request;
    try {
      request = parseRequest(this.codec.decode(payload));
    } catch (err) {
      const e = RpcError.is(err) ? err : new RpcError(RpcCode.INVALID_ARGUMENT, `malformed request payload: ${(err as Error).message}`);
      return this.sendError(id, e, true);
    }
    if (this.draining) return this.sendError(id, new RpcError(RpcCode.UNAVAILABLE, 'server is shutting down'), true);
    let entry;
    try {
      entry = this.settings.table.lookup(request.service, request.method);
    } catch (err) {
      return this.sendError(id, err as RpcError, true);
    }
    if (this.calls.size >= this.settings.maxConcurrentCalls) return this.refuseOverLimit(id);
    if (entry.stream || entry.input) return this.startStream(id, entry, request);
    this.startCall(id, entry, request, request.args);
  }

  private startStream(id: number, entry: MethodEntry, request: RequestMessage): void {
    const what = `${entry.def.service}.${entry.def.name}`;
    if (entry.stream && !this.streams) {
      return this.sendError(
        id,
        new RpcError(RpcCode.UNIMPLEMENTED, `${what} is a server stream and this connection did not announce streams in its preface`),
        true,
      );
    }
    if (entry.input && !this.clientStreams) {
      const why = `${what} is a ${entry.kind} stream and this connection did not announce client streams in its preface`;
      return this.sendError(id, new RpcError(RpcCode.UNIMPLEMENTED, why), true);
    }
    this.streamIds.add(id);
    // A client or bidi stream's handler gets the caller's items as its first argument.
    const args = entry.input ? [this.inputs.open(id, entry), ...request.args] : request.args;
    if (!entry.stream) return this.startCall(id, entry, request, args);
    const stream = new ServerStream(this, id, entry, request, this.settings.handleTimeoutMs);
    this.calls.set(stream);
    stream.start(args);
  }

  /** A call answered once: a unary call, or a client stream (whose input is `args[0]`). */
  private startCall(id: number, entry: MethodEntry, request: RequestMessage, args: unknown[]): void {
    // Deadlines count from when the chunk holding the request was read (one clock read per chunk).
    const call = new ServerCall(this, id, entry, request, this.liveness.lastByteMs, this.settings.handleTimeoutMs);
    call.start(args);
    // A synchronous handler has answered already: registering it would only churn the map (a measured 12-17 %
    // of the server's CPU for small calls). Only calls still running can be cancelled or aborted.
    if (!call.finished) this.calls.set(call);
  }

  /** Reached only while streams are open on the connection (otherwise reading pauses at the limit). */
  private refuseOverLimit(id: number): void {
    const max = this.settings.maxConcurrentCalls;
    const why = `${max} calls are running on this connection (maxConcurrentCalls), streams among them; the request was not run`;
    this.sendError(id, new RpcError(RpcCode.RESOURCE_EXHAUSTED, why), true);
  }

  /** An item or the end of a client or bidi stream's input; a frame that breaks the rules fails that call. */
  private onInput(kind: FrameKind, id: number, payload: Buffer): void {
    const err = this.inputs.onFrame(kind, id, payload, this.codec);
    if (err === undefined) return;
    this.settings.onClientError(err, this.peer);
    const call = this.calls.get(id);
    if (call === undefined) return this.sendError(id, err);
    this.inputs.release(id, err);
    call.abort(err);
  }

  private onWindow(id: number, payload: Buffer): void {
    const stream = this.calls.get(id);
    if (stream === undefined) return; // a grant racing the stream's end
    if (!(stream instanceof ServerStream)) {
      const err = new RpcError(RpcCode.INVALID_ARGUMENT, `WINDOW for ${stream.service}.${stream.method}, which sends no stream items`);
      this.settings.onClientError(err, this.peer);
      return stream.abort(err);
    }
    let value: unknown;
    try {
      value = this.codec.decode(payload);
    } catch {
      value = undefined;
    }
    stream.grant(value);
  }

  /** The stream can no longer be trusted: say why on id 0, then close. */
  private failConnection(err: RpcError): void {
    // Nothing after the fatal frame may run, not even whole frames that came in the same chunk.
    this.reader?.stop();
    this.settings.onClientError(err, this.peer);
    this.sendError(0, err);
    this.state = 'closed';
    this.end();
  }

  private dropPeer(reason: string): void {
    this.settings.onClientError(new RpcError(RpcCode.UNAVAILABLE, reason), this.peer);
    this.socket.destroy();
  }

  private onClose(): void {
    clearTimeout(this.handshakeTimer);
    clearInterval(this.ticker);
    this.settings.budget.unwait(this.wake);
    const unfinished = this.reader?.pendingBytes ?? 0;
    if (this.state === 'open' && unfinished > 0) {
      this.settings.onClientError(
        new RpcError(RpcCode.UNAVAILABLE, `connection closed in the middle of a frame (${unfinished} bytes unread)`),
        this.peer,
      );
    }
    this.state = 'closed';
    this.account();
    this.writer?.close();
    this.inputs.failAll(new RpcError(RpcCode.UNAVAILABLE, 'the client disconnected'));
    for (const call of this.calls.values()) call.cancel('client disconnected');
    this.deadlines.close();
    this.settings.onClosed(this);
  }
}
