/**
 * MyRPC wire format, version 1. See docs/PROTOCOL.md; test/protocol/wire-bytes.test.ts pins these bytes.
 *
 * Preface: each side sends one first, the client at once, the server in answer (12 bytes, big-endian):
 *
 *    0      5         6         7        8                 12
 *   +------+---------+---------+--------+-----------------+
 *   | MYRPC| version | codec   | status | maxFrameBytes   |
 *   | 5 B  | u8 = 1  | u8      | u8     | u32             |
 *   +------+---------+---------+--------+-----------------+
 *
 *   codec: 0 = JSON, 1 = MessagePack. status: 0 = ok (always 0 from the client); a non-zero status from the
 *   server is followed by a u16 length and that many bytes of UTF-8 reason, then the server closes.
 *
 * Frame: after the prefaces, both sides send frames (9-byte header, big-endian):
 *
 *    0                 4        5                 9
 *   +-----------------+--------+-----------------+-------------------------+
 *   | payloadBytes u32| kind u8| requestId u32   | payload (codec-encoded) |
 *   +-----------------+--------+-----------------+-------------------------+
 */

export const MAGIC = Buffer.from('MYRPC', 'latin1');
export const PROTOCOL_VERSION = 1;
export const PREFACE_BYTES = 12;
export const FRAME_HEADER_BYTES = 9;
export const MAX_REQUEST_ID = 0xffffffff;

export { DEFAULT_MAX_FRAME_BYTES } from '../util/limits';

export const FrameKind = {
  /** client → server: payload `[service, method, args, timeoutMs, metadata?]` */
  REQUEST: 1,
  /** server → client: payload is the encoded result (empty payload = undefined) */
  RESPONSE: 2,
  /** either way: payload `{code, message, details?, timeout?}`; id 0 = connection-level error, then close */
  ERROR: 3,
  /** client → server: stop the call with this id; empty payload */
  CANCEL: 4,
  /** either way: empty payload; the peer answers PONG with the same id */
  PING: 5,
  PONG: 6,
  /** server → client: shutting down, start no new calls here; payload `{reason}` */
  GOAWAY: 7,
  /** server → client (and client → server for client streams): one item of a stream; payload the item */
  STREAM_ITEM: 8,
  /** the receiver of a stream's items → their sender: grant more credit; payload `[messages, bytes]` */
  WINDOW: 9,
  /** the sender of a stream's items: all were sent; empty payload (a server's failure ends it with ERROR) */
  STREAM_END: 10,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const PrefaceStatus = {
  OK: 0,
  UNSUPPORTED_VERSION: 1,
  UNSUPPORTED_CODEC: 2,
  BAD_MAGIC: 3,
  /** The client announced a `maxFrameBytes` below 64, too small for the shortest ERROR frame. */
  FRAME_LIMIT_TOO_SMALL: 4,
} as const;

/**
 * Byte 7 of the client's preface carries feature flags (old clients send 0). A server that takes the
 * flags answers `FEATURES_ACCEPTED | flags` in its status byte; refusal statuses stay below 0x80.
 */
export const PrefaceFlags = {
  /** The peer speaks server streams (frame kinds 8 to 10). */
  STREAMS: 0x01,
  /** The peer speaks client and bidi streams (kinds 8 and 10 from the client, 9 from the server). */
  CLIENT_STREAMS: 0x02,
  /** Set in the server's status byte: accepted, the low bits are the features both sides use. */
  FEATURES_ACCEPTED: 0x80,
} as const;
export type PrefaceStatus = (typeof PrefaceStatus)[keyof typeof PrefaceStatus];

export interface Preface {
  version: number;
  codec: number;
  status: number;
  maxFrameBytes: number;
}

export function encodePreface(p: Preface, reason?: string): Buffer {
  const reasonBytes = reason === undefined ? undefined : Buffer.from(reason, 'utf8').subarray(0, 0xffff);
  const out = Buffer.allocUnsafe(PREFACE_BYTES + (reasonBytes ? 2 + reasonBytes.length : 0));
  MAGIC.copy(out, 0);
  out[5] = p.version;
  out[6] = p.codec;
  out[7] = p.status;
  out.writeUInt32BE(p.maxFrameBytes, 8);
  if (reasonBytes) {
    out.writeUInt16BE(reasonBytes.length, PREFACE_BYTES);
    reasonBytes.copy(out, PREFACE_BYTES + 2);
  }
  return out;
}

/** Reads the 12 fixed bytes; the caller has checked the magic. */
export function decodePreface(bytes: Buffer): Preface {
  return { version: bytes[5], codec: bytes[6], status: bytes[7], maxFrameBytes: bytes.readUInt32BE(8) };
}

export function isKnownKind(kind: number): kind is FrameKind {
  return kind >= FrameKind.REQUEST && kind <= FrameKind.STREAM_END;
}
