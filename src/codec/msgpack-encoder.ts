/**
 * A MessagePack encoder for the values MyRPC carries, writing into one growing buffer that is reused from call
 * to call. Same bytes as `@msgpack/msgpack` with `ignoreUndefined` (smallest integer encodings, other numbers
 * float64, timestamp extension for a Date, `bin` for a byte array); strings are written by Node's native
 * UTF-8 encoder, which is what makes it several times faster for string payloads.
 */

const INITIAL_BUFFER_BYTES = 64 * 1024;
/** Past this depth a value is taken to be cyclic, as the reference encoder does. */
export const MAX_ENCODE_DEPTH = 100;
/** Strings shorter than this are written by a JavaScript loop when ASCII: cheaper than a native call. */
const SHORT_STRING_CHARS = 24;

const TWO_32 = 0x1_0000_0000;
const TIMESTAMP_64_MAX_SEC = 0x4_0000_0000;

let buf = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
let pos = 0;

/**
 * Encodes `value`; the answer is a view of the shared buffer, valid until the next call (the frame writer copies
 * it at once). Throws a TypeError for a function, symbol or BigInt, and a RangeError for a value nested deeper
 * than {@link MAX_ENCODE_DEPTH} (a cycle).
 */
export function encodeMsgpackShared(value: unknown): Uint8Array {
  pos = 0;
  write(value, 0);
  return buf.subarray(0, pos);
}

function ensure(bytes: number): void {
  if (pos + bytes <= buf.length) return;
  const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + bytes));
  buf.copy(grown, 0, 0, pos);
  buf = grown;
}

function write(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'number':
      return writeNumber(value);
    case 'string':
      return writeString(value);
    case 'boolean':
      ensure(1);
      buf[pos++] = value ? 0xc3 : 0xc2;
      return;
    case 'undefined':
      ensure(1);
      buf[pos++] = 0xc0;
      return;
    case 'object':
      return value === null ? writeNil() : writeObject(value, depth);
    default:
      throw new TypeError(`a ${typeof value} cannot be encoded as MessagePack`);
  }
}

function writeNil(): void {
  ensure(1);
  buf[pos++] = 0xc0;
}

function writeNumber(n: number): void {
  ensure(9);
  if (!Number.isSafeInteger(n)) {
    buf[pos++] = 0xcb;
    pos = buf.writeDoubleBE(n, pos);
  } else if (n >= 0) {
    writeUnsigned(n);
  } else {
    writeNegative(n);
  }
}

function writeUnsigned(n: number): void {
  if (n < 0x80) {
    buf[pos++] = n;
  } else if (n < 0x100) {
    buf[pos++] = 0xcc;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = 0xcd;
    pos = buf.writeUInt16BE(n, pos);
  } else if (n < TWO_32) {
    buf[pos++] = 0xce;
    pos = buf.writeUInt32BE(n, pos);
  } else {
    buf[pos++] = 0xcf;
    pos = buf.writeUInt32BE(Math.floor(n / TWO_32), pos);
    pos = buf.writeUInt32BE(n % TWO_32, pos);
  }
}

function writeNegative(n: number): void {
  if (n >= -0x20) {
    buf[pos++] = n & 0xff;
  } else if (n >= -0x80) {
    buf[pos++] = 0xd0;
    pos = buf.writeInt8(n, pos);
  } else if (n >= -0x8000) {
    buf[pos++] = 0xd1;
    pos = buf.writeInt16BE(n, pos);
  } else if (n >= -0x8000_0000) {
    buf[pos++] = 0xd2;
    pos = buf.writeInt32BE(n, pos);
  } else {
    // Two's complement over 64 bits: the high word is floor(n / 2^32), the low word what remains (both exact).
    const high = Math.floor(n / TWO_32);
    buf[pos++] = 0xd3;
    pos = buf.writeInt32BE(high, pos);
    pos = buf.writeUInt32BE(n - high * TWO_32, pos);
  }
}

function writeString(s: string): void {
  const chars = s.length;
  if (chars < SHORT_STRING_CHARS && writeShortAscii(s, chars)) return;
  const bytes = Buffer.byteLength(s, 'utf8');
  ensure(bytes + 5);
  writeHeader(bytes, 0xa0, 0x20, 0xd9, 0xda, 0xdb);
  pos += buf.write(s, pos, bytes, 'utf8');
}

/** Writes a short all-ASCII string byte by byte; false (nothing written) when a character is not ASCII. */
function writeShortAscii(s: string, chars: number): boolean {
  ensure(chars + 1);
  for (let i = 0; i < chars; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return false;
    buf[pos + 1 + i] = c;
  }
  buf[pos] = 0xa0 | chars;
  pos += chars + 1;
  return true;
}

/** A length header: the fix form when `fixLimit` allows (fixCode | n), else the 8-, 16- or 32-bit form. */
function writeHeader(n: number, fixCode: number, fixLimit: number, code8: number, code16: number, code32: number): void {
  if (n < fixLimit) {
    buf[pos++] = fixCode | n;
  } else if (n < 0x100 && code8 !== 0) {
    buf[pos++] = code8;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = code16;
    pos = buf.writeUInt16BE(n, pos);
  } else {
    buf[pos++] = code32;
    pos = buf.writeUInt32BE(n, pos);
  }
}

function writeObject(value: object, depth: number): void {
  if (depth >= MAX_ENCODE_DEPTH)
    throw new RangeError(`a value nested deeper than ${MAX_ENCODE_DEPTH} levels (or a cycle) cannot be encoded as MessagePack`);
  if (Array.isArray(value)) return writeArray(value, depth + 1);
  if (value instanceof Date) return writeTimestamp(value.getTime());
  if (ArrayBuffer.isView(value)) return writeBinary(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  if (value instanceof ArrayBuffer) return writeBinary(new Uint8Array(value));
  writeMap(value as Record<string, unknown>, depth + 1);
}

function writeArray(list: readonly unknown[], depth: number): void {
  const n = list.length;
  ensure(5);
  writeHeader(n, 0x90, 0x10, 0, 0xdc, 0xdd);
  for (let i = 0; i < n; i++) write(list[i], depth);
}

function writeMap(record: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(record);
  let n = 0;
  for (let i = 0; i < keys.length; i++) if (record[keys[i]] !== undefined) n++;
  ensure(5);
  writeHeader(n, 0x80, 0x10, 0, 0xde, 0xdf);
  for (let i = 0; i < keys.length; i++) {
    const v = record[keys[i]];
    if (v === undefined) continue; // left out, as the reference encoder's ignoreUndefined does
    writeString(keys[i]);
    write(v, depth);
  }
}

function writeBinary(bytes: Uint8Array): void {
  const n = bytes.byteLength;
  ensure(n + 5);
  writeHeader(n, 0, 0, 0xc4, 0xc5, 0xc6);
  buf.set(bytes, pos);
  pos += n;
}

/** The timestamp extension (type -1) in its 32-, 64- or 96-bit form, as the reference encoder picks it. */
function writeTimestamp(ms: number): void {
  if (Number.isNaN(ms)) return writeNil(); // an invalid Date: JSON writes null too
  const sec = Math.floor(ms / 1000);
  const nsec = (ms - sec * 1000) * 1e6;
  ensure(15);
  if (sec >= 0 && sec < TIMESTAMP_64_MAX_SEC) {
    if (nsec === 0 && sec < TWO_32) {
      buf[pos++] = 0xd6;
      buf[pos++] = 0xff;
      pos = buf.writeUInt32BE(sec, pos);
      return;
    }
    const high = Math.floor(sec / TWO_32);
    buf[pos++] = 0xd7;
    buf[pos++] = 0xff;
    pos = buf.writeUInt32BE(nsec * 4 + high, pos);
    pos = buf.writeUInt32BE(sec % TWO_32, pos);
    return;
  }
  buf[pos++] = 0xc7;
  buf[pos++] = 12;
  buf[pos++] = 0xff;
  pos = buf.writeUInt32BE(nsec, pos);
  pos = buf.writeBigInt64BE(BigInt(sec), pos);
}
