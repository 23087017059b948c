/**
 * A MessagePack decoder for one payload: maps become plain objects (string or integer keys; `__proto__` is
 * refused), `bin` a fresh `Uint8Array` (never a view of the frame), the timestamp extension a `Date`; any other
 * extension type, the reserved byte 0xc1, a truncated value or bytes left over after the value throw.
 * Strings are read by Node's native UTF-8 decoder.
 */

/** Strings shorter than this are read by a JavaScript loop when ASCII: cheaper than a native call. */
const SHORT_STRING_BYTES = 16;
const TWO_32 = 0x1_0000_0000;

let src: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;

/** Decodes the one value `bytes` holds; does not keep `bytes` (a view into a larger buffer is fine). */
export function decodeMsgpack(bytes: Buffer): unknown {
  src = bytes;
  pos = 0;
  end = bytes.length;
  stack.length = 0;
  try {
    const value = readValue();
    if (pos !== end) throw new RangeError(`MessagePack: ${end - pos} extra byte(s) after the value at byte ${pos}`);
    return value;
  } finally {
    src = EMPTY; // do not keep the caller's buffer alive
    stack.length = 0;
  }
}

const EMPTY = Buffer.alloc(0);

/** An array or map being filled. Containers nest on this stack, not on the call stack: any depth decodes. */
interface Open {
  list: unknown[] | undefined;
  record: Record<string, unknown> | undefined;
  size: number;
  filled: number;
  /** For a map: the key read, waiting for its value; undefined while a key is expected. */
  key: string | number | undefined;
}

const stack: Open[] = [];
/** What read() answers when it opened a non-empty container instead of reading a value. */
const OPENED = Symbol('opened');

function readValue(): unknown {
  for (;;) {
    let value = read();
    if (value === OPENED) continue;
    // Hand the value to the innermost open container; a container that is full becomes the value in turn.
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.list) {
        top.list[top.filled++] = value;
        if (top.filled < top.size) break;
        value = top.list;
      } else if (top.key === undefined) {
        top.key = checkKey(value);
        break;
      } else {
        (top.record as Record<string, unknown>)[top.key] = value;
        top.key = undefined;
        if (++top.filled < top.size) break;
        value = top.record;
      }
      stack.pop();
    }
    if (stack.length === 0) return value;
  }
}

function checkKey(key: unknown): string | number {
  if (typeof key !== 'string' && typeof key !== 'number')
    throw new TypeError(`MessagePack: a map key must be a string or a number, not ${key === null ? 'nil' : typeof key}`);
  if (key === '__proto__') throw new TypeError('MessagePack: the map key __proto__ is not allowed');
  return key;
}

function need(n: number): void {
  if (pos + n > end) throw new RangeError(`MessagePack: truncated value (needs ${n} byte(s) at byte ${pos}, ${end - pos} left)`);
}

function read(): unknown {
  need(1);
  const b = src[pos++];
  if (b < 0x80) return b;
  if (b < 0x90) return readMap(b & 0x0f);
  if (b < 0xa0) return readArray(b & 0x0f);
  if (b < 0xc0) return readString(b & 0x1f);
  if (b >= 0xe0) return b - 0x100;
  return readTyped(b);
}

function readTyped(b: number): unknown {
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return readBinary(readUint(1));
    case 0xc5:
      return readBinary(readUint(2));
    case 0xc6:
      return readBinary(readUint(4));
    case 0xc7:
      return readExtension(readUint(1));
    case 0xc8:
      return readExtension(readUint(2));
    case 0xc9:
      return readExtension(readUint(4));
    case 0xca:
      need(4);
      pos += 4;
      return src.readFloatBE(pos - 4);
    case 0xcb:
      need(8);
      pos += 8;
      return src.readDoubleBE(pos - 8);
    case 0xcc:
      return readUint(1);
    case 0xcd:
      return readUint(2);
    case 0xce:
      return readUint(4);
    case 0xcf:
      return readUint64();
    case 0xd0:
      need(1);
      return src.readInt8(pos++);
    case 0xd1:
      need(2);
      pos += 2;
      return src.readInt16BE(pos - 2);
    case 0xd2:
      need(4);
      pos += 4;
      return src.readInt32BE(pos - 4);
    case 0xd3:
      return readInt64();
    case 0xd4:
      return readExtension(1);
    case 0xd5:
      return readExtension(2);
    case 0xd6:
      return readExtension(4);
    case 0xd7:
      return readExtension(8);
    case 0xd8:
      return readExtension(16);
    case 0xd9:
      return readString(readUint(1));
    case 0xda:
      return readString(readUint(2));
    case 0xdb:
      return readString(readUint(4));
    case 0xdc:
      return readArray(readUint(2));
    case 0xdd:
      return readArray(readUint(4));
    case 0xde:
      return readMap(readUint(2));
    case 0xdf:
      return readMap(readUint(4));
    default:
      throw new RangeError(`MessagePack: unrecognized type byte 0x${b.toString(16)} at byte ${pos - 1}`);
  }
}

function readUint(bytes: 1 | 2 | 4): number {
  need(bytes);
  const v = bytes === 1 ? src[pos] : bytes === 2 ? src.readUInt16BE(pos) : src.readUInt32BE(pos);
  pos += bytes;
  return v;
}

function readUint64(): number {
  need(8);
  const v = src.readUInt32BE(pos) * TWO_32 + src.readUInt32BE(pos + 4);
  pos += 8;
  return v;
}

function readInt64(): number {
  need(8);
  const v = src.readInt32BE(pos) * TWO_32 + src.readUInt32BE(pos + 4);
  pos += 8;
  return v;
}

function readString(bytes: number): string {
  need(bytes);
  const start = pos;
  pos += bytes;
  if (bytes < SHORT_STRING_BYTES) {
    let ascii = '';
    for (let i = start; i < pos; i++) {
      const c = src[i];
      if (c > 0x7f) return src.toString('utf8', start, pos);
      ascii += String.fromCharCode(c);
    }
    return ascii;
  }
  return src.toString('utf8', start, pos);
}

function readArray(n: number): unknown {
  // Each element takes at least one byte: a length the payload cannot hold is refused before allocating.
  need(n);
  const list = new Array<unknown>(n);
  if (n === 0) return list;
  stack.push({ list, record: undefined, size: n, filled: 0, key: undefined });
  return OPENED;
}

function readMap(n: number): unknown {
  need(n * 2);
  const record: Record<string, unknown> = {};
  if (n === 0) return record;
  stack.push({ list: undefined, record, size: n, filled: 0, key: undefined });
  return OPENED;
}

function readBinary(bytes: number): Uint8Array {
  need(bytes);
  // A copy: the frame's bytes are reused once the call is dispatched.
  const copy = new Uint8Array(bytes);
  copy.set(src.subarray(pos, pos + bytes));
  pos += bytes;
  return copy;
}

function readExtension(bytes: number): Date {
  need(bytes + 1);
  const type = src.readInt8(pos);
  pos += 1;
  if (type !== -1) throw new TypeError(`MessagePack: extension type ${type} is not supported (only the timestamp, -1)`);
  const at = pos;
  pos += bytes;
  if (bytes === 4) return new Date(src.readUInt32BE(at) * 1000);
  if (bytes === 8) {
    const word = src.readUInt32BE(at);
    const sec = (word & 0x3) * TWO_32 + src.readUInt32BE(at + 4);
    return new Date(sec * 1000 + Math.floor((word >>> 2) / 1e6));
  }
  if (bytes === 12) return new Date(Number(src.readBigInt64BE(at + 4)) * 1000 + Math.floor(src.readUInt32BE(at) / 1e6));
  throw new RangeError(`MessagePack: a timestamp of ${bytes} bytes (expected 4, 8 or 12)`);
}
