import type { Codec } from './codec';

/** How deep and how wide a value is searched for byte arrays before the slower, always-correct replacer is used. */
const SCAN_MAX_DEPTH = 6;
const SCAN_MAX_NODES = 256;

/**
 * JSON, the default: any language can speak it. `undefined` encodes as an empty payload. A `Date` is written as
 * its ISO 8601 string (`toJSON`), and a byte array (`Uint8Array`, `Buffer`) at any depth as a base64 string.
 */
export const jsonCodec: Codec = {
  name: 'json',
  id: 0,
  encode(value: unknown): string {
    if (value === undefined) return '';
    // A replacer takes V8 off its fast path (a few times slower for small values), so it is used only when a
    // byte array may be inside; a bounded scan decides.
    const text = (mayHoldBytes(value) ? JSON.stringify(value, bytesAsBase64) : JSON.stringify(value)) as string | undefined;
    // JSON.stringify answers undefined, not a string, for a function or symbol: refuse it, as msgpack does.
    if (text === undefined) throw new TypeError(`a ${typeof value} cannot be encoded as JSON`);
    return text;
  },
  decode(bytes: Buffer): unknown {
    return bytes.length === 0 ? undefined : JSON.parse(bytes.toString('utf8'));
  },
};

function bytesAsBase64(this: unknown, key: string, value: unknown): unknown {
  // The holder's own value, before toJSON: a Buffer's toJSON would already have made it {type, data}.
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

/** Objects left to look into during one scan; a module variable, as encode is synchronous and not re-entered. */
let nodesLeft = 0;

/** True when `value` holds a byte array, or is too big or deep to tell cheaply. */
function mayHoldBytes(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  nodesLeft = SCAN_MAX_NODES;
  return scan(value, SCAN_MAX_DEPTH);
}

function scan(value: object, depth: number): boolean {
  if (depth === 0 || --nodesLeft < 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null && scan(v, depth - 1)) return true;
    }
    return false;
  }
  // Any typed array or DataView counts: the replacer then decides, and only Uint8Array is changed.
  if (ArrayBuffer.isView(value)) return true;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const v = record[key];
    if (typeof v === 'object' && v !== null && scan(v, depth - 1)) return true;
  }
  return false;
}
