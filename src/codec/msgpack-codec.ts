import { Decoder, Encoder } from '@msgpack/msgpack';
import type { Codec } from './codec';

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/** MessagePack (binary, smaller and faster for numbers and byte arrays). `undefined` is an empty payload. */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  id: 1,
  encode(value: unknown): Uint8Array {
    // encodeSharedRef returns a view of the encoder's buffer; the frame writer copies it at once.
    return value === undefined ? new Uint8Array(0) : encoder.encodeSharedRef(toPlain(value));
  },
  decode(bytes: Buffer): unknown {
    return bytes.length === 0 ? undefined : decoder.decode(bytes);
  },
};

/**
 * Class instances with `toJSON` go out as JSON would send them, so both codecs agree; a Date stays a timestamp
 * and a Buffer stays bytes (its toJSON would make it `{type, data}`).
 */
function toPlain(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !(value instanceof Date) && !(value instanceof Uint8Array) && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON(): unknown }).toJSON();
  }
  return value;
}
