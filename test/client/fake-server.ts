import { createServer, type AddressInfo, type Socket } from 'node:net';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodePreface,
  FrameKind,
  PREFACE_BYTES,
  PROTOCOL_VERSION,
  PrefaceStatus,
} from '../../src/protocol/frame';
import { FrameReader } from '../../src/protocol/frame-reader';
import { writeHeader } from '../../src/protocol/frame-writer';
import { until } from '../helpers/wait';

/** One decoded frame (JSON codec). */
export interface Frame {
  kind: FrameKind;
  id: number;
  /** The JSON-decoded payload; undefined for an empty payload. */
  value: unknown;
}

/** The fake server's end of one accepted connection. */
export interface FakePeer {
  readonly socket: Socket;
  /** Every frame received so far, in order. */
  readonly frames: Frame[];
  /** Sends one frame with a JSON payload (none when `value` is undefined). */
  send(kind: FrameKind, id: number, value?: unknown): void;
  /** Resolves with the first received frame (past or future) that matches. */
  waitFrame(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
}

export interface FakeServerOptions {
  /** `silent`: accept the socket and never say a word. `myrpc` (default): answer the preface, then read frames. */
  mode?: 'silent' | 'myrpc';
  /** Called once the preface is answered (`myrpc`) or the socket accepted (`silent`). */
  onPeer?(peer: FakePeer): void;
  onFrame?(peer: FakePeer, frame: Frame): void;
}

export interface FakeServer {
  readonly port: number;
  readonly peers: FakePeer[];
  /** Resolves with the n-th accepted peer (0-based) once it exists. */
  peer(n: number, timeoutMs?: number): Promise<FakePeer>;
  /** Destroys every socket and closes the listener. */
  close(): Promise<void>;
}

/**
 * A MyRPC server double on 127.0.0.1:0 that speaks the JSON codec from the real frame module and does only
 * what a test tells it, so the client's side of timeouts, cancels and connection loss can be driven exactly.
 */
export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const peers: FakePeer[] = [];
  const sockets = new Set<Socket>();
  const net = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (options.mode === 'silent') {
      const peer = makePeer(socket);
      peers.push(peer);
      options.onPeer?.(peer);
      return;
    }
    readPreface(socket, () => {
      const peer = makePeer(socket);
      peers.push(peer);
      const reader = new FrameReader(
        {
          onFrame(kind, id, payload) {
            const frame: Frame = { kind, id, value: payload.length === 0 ? undefined : JSON.parse(payload.toString('utf8')) };
            (peer.frames as Frame[]).push(frame);
            options.onFrame?.(peer, frame);
          },
        },
        DEFAULT_MAX_FRAME_BYTES,
      );
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
      socket.write(
        encodePreface({ version: PROTOCOL_VERSION, codec: 0, status: PrefaceStatus.OK, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }),
      );
      options.onPeer?.(peer);
    });
  });
  await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
  const { port } = net.address() as AddressInfo;
  return {
    port,
    peers,
    peer: (n, timeoutMs = 5000) => until(() => peers[n], timeoutMs, `peer #${n}`),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => net.close(() => resolve()));
    },
  };
}

function readPreface(socket: Socket, ready: () => void): void {
  let got = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    got = Buffer.concat([got, chunk]);
    if (got.length < PREFACE_BYTES) return;
    socket.off('data', onData);
    ready();
    if (got.length > PREFACE_BYTES) socket.emit('data', got.subarray(PREFACE_BYTES));
  };
  socket.on('data', onData);
}

function makePeer(socket: Socket): FakePeer {
  const frames: Frame[] = [];
  return {
    socket,
    frames,
    send(kind, id, value) {
      if (!socket.destroyed) socket.write(encodeFrame(kind, id, value));
    },
    waitFrame(match, timeoutMs = 5000) {
      return until(() => frames.find(match), timeoutMs, 'a matching frame');
    },
  };
}

/** One frame as bytes: 9-byte header, JSON payload (empty when `value` is undefined). */
export function encodeFrame(kind: FrameKind, id: number, value?: unknown): Buffer {
  const body = value === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value), 'utf8');
  const frame = Buffer.alloc(9 + body.length);
  writeHeader(frame, 0, body.length, kind, id);
  body.copy(frame, 9);
  return frame;
}

/** The 12-byte preface a JSON client sends. */
export function clientPreface(): Buffer {
  return encodePreface({ version: PROTOCOL_VERSION, codec: 0, status: PrefaceStatus.OK, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
}

/** Decodes the whole frames in `bytes` (a server's output after its 12-byte preface). */
export function decodeFrames(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  const reader = new FrameReader(
    {
      onFrame: (kind, id, payload) =>
        frames.push({ kind, id, value: payload.length === 0 ? undefined : JSON.parse(payload.toString('utf8')) }),
    },
    DEFAULT_MAX_FRAME_BYTES,
  );
  reader.push(bytes);
  return frames;
}

export { FrameKind };

/** Waits until a raw peer has received the server preface and at least `n` whole frames; returns them. */
export function framesReceived(received: () => Buffer, n: number, timeoutMs = 5000): Promise<Frame[]> {
  return until(
    () => {
      const bytes = received();
      const frames = bytes.length > PREFACE_BYTES ? decodeFrames(bytes.subarray(PREFACE_BYTES)) : [];
      return frames.length >= n && frames;
    },
    timeoutMs,
    `${n} frame(s) from the server`,
  );
}
