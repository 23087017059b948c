import type { Codec } from './codec';
import { decodeMsgpack } from './msgpack-decoder';
import { encodeMsgpackShared } from './msgpack-encoder';

/**
 * MessagePack (binary; smaller and faster than JSON for numbers, strings and byte arrays). `undefined` is an
 * empty payload. The encoder and decoder are MyRPC's own (src/codec/msgpack-encoder.ts, msgpack-decoder.ts):
 * they write and read the bytes `@msgpack/msgpack` does, with Node's native UTF-8 string handling.
 */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  id: 1,
  encode(value: unknown): Uint8Array {
    // A view of the encoder's shared buffer; the frame writer copies it at once.
    return value === undefined ? new Uint8Array(0) : encodeMsgpackShared(toPlain(value));
  },
  decode(bytes: Buffer): unknown {
    return bytes.length === 0 ? undefined : decodeMsgpack(bytes);
  },
};

/**
 * Class instances with `toJSON` go out as JSON would send them, so both codecs agree; a Date stays a timestamp
 * and a Buffer stays bytes (its toJSON would make it `{type, data}`).
 */
function toPlain(value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array) &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return (value as { toJSON(): unknown }).toJSON();
  }
  return value;
}
