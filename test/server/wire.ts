import { jsonCodec } from '../../src/codec/json-codec';
import {
  encodePreface,
  FRAME_HEADER_BYTES,
  FrameKind,
  MAGIC,
  PREFACE_BYTES,
  PROTOCOL_VERSION,
  PrefaceStatus,
  decodePreface,
  type Preface,
} from '../../src/protocol/frame';
import { writeHeader } from '../../src/protocol/frame-writer';
import { encodeRequest } from '../../src/protocol/request';
import { rawConnect, type RawPeer } from '../helpers/servers';
import { until } from './harness';

/** Raw-socket tools: build client bytes with the library's own encoders and read what the server answers. */

export function clientPreface(overrides: Partial<Preface> = {}): Buffer {
  return encodePreface({ version: PROTOCOL_VERSION, codec: jsonCodec.id, status: PrefaceStatus.OK, maxFrameBytes: 1 << 20, ...overrides });
}

export function frame(kind: number, id: number, payload: string | Buffer = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.alloc(FRAME_HEADER_BYTES + body.length);
  writeHeader(out, 0, body.length, kind as FrameKind, id);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** Only the 9-byte header, claiming `payloadBytes`. */
export function header(kind: number, id: number, payloadBytes: number): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES);
  writeHeader(out, 0, payloadBytes, kind as FrameKind, id);
  return out;
}

export function requestFrame(id: number, service: string, method: string, args: unknown[], timeoutMs = 10_000): Buffer {
  return frame(FrameKind.REQUEST, id, jsonCodec.encode(encodeRequest(service, method, args, timeoutMs)) as string);
}

export interface PrefaceReply {
  preface: Preface;
  /** The UTF-8 reason that follows a non-zero status. */
  reason?: string;
  /** Bytes after the preface (and reason). */
  rest: Buffer;
}

/** Parses the server's preface; undefined while incomplete. Throws when the bytes do not start with the magic. */
export function parsePrefaceReply(bytes: Buffer): PrefaceReply | undefined {
  if (bytes.length < PREFACE_BYTES) return undefined;
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC))
    throw new Error(`not a MyRPC preface: ${JSON.stringify(bytes.toString('latin1', 0, 16))}`);
  const preface = decodePreface(bytes);
  if (preface.status === PrefaceStatus.OK) return { preface, rest: bytes.subarray(PREFACE_BYTES) };
  if (bytes.length < PREFACE_BYTES + 2) return undefined;
  const n = bytes.readUInt16BE(PREFACE_BYTES);
  if (bytes.length < PREFACE_BYTES + 2 + n) return undefined;
  const reason = bytes.toString('utf8', PREFACE_BYTES + 2, PREFACE_BYTES + 2 + n);
  return { preface, reason, rest: bytes.subarray(PREFACE_BYTES + 2 + n) };
}

export interface WireFrame {
  kind: number;
  id: number;
  payload: Buffer;
}

/** Whole frames in `bytes` (a trailing partial frame is left out). */
export function parseFrames(bytes: Buffer): WireFrame[] {
  const frames: WireFrame[] = [];
  let at = 0;
  while (bytes.length - at >= FRAME_HEADER_BYTES) {
    const length = bytes.readUInt32BE(at);
    if (bytes.length - at - FRAME_HEADER_BYTES < length) break;
    const start = at + FRAME_HEADER_BYTES;
    frames.push({ kind: bytes[at + 4], id: bytes.readUInt32BE(at + 5), payload: bytes.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}

export function body(f: WireFrame): any {
  return jsonCodec.decode(f.payload);
}

/** A raw socket that has done a valid JSON handshake; `frames()` lists what the server sent since. */
export interface RawSession extends RawPeer {
  preface: Preface;
  frames(): WireFrame[];
  /** Resolves with the first frame (since the handshake) matching `match`; rejects after `timeoutMs`. */
  frameWhere(match: (f: WireFrame) => boolean, timeoutMs?: number): Promise<WireFrame>;
}

export async function openSession(port: number, track: (p: RawPeer) => void): Promise<RawSession> {
  const peer = await rawConnect(port);
  track(peer);
  peer.socket.write(clientPreface());
  const bytes = await peer.waitFor(PREFACE_BYTES);
  const reply = parsePrefaceReply(bytes);
  if (!reply || reply.preface.status !== PrefaceStatus.OK) throw new Error('handshake refused');
  const frames = (): WireFrame[] => parseFrames(peer.received().subarray(PREFACE_BYTES));
  return {
    ...peer,
    preface: reply.preface,
    frames,
    async frameWhere(match, timeoutMs = 5000) {
      let found: WireFrame | undefined;
      await until(() => (found = frames().find(match)) !== undefined || peer.socket.destroyed, 'the expected frame', timeoutMs);
      if (!found)
        throw new Error(
          `the server closed the connection without the expected frame; got ${JSON.stringify(frames().map((f) => [f.kind, f.id, f.payload.toString()]))}`,
        );
      return found;
    },
  };
}

/** Resolves with everything received once the server has closed the socket, or rejects after `timeoutMs`. */
export function closedWithin(peer: RawPeer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${timeoutMs} ms`)), timeoutMs);
    void peer.closed.then((bytes) => {
      clearTimeout(timer);
      resolve(bytes);
    });
  });
}
