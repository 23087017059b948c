import type { Codec } from './codec';

/** JSON, the default: any language can speak it. `undefined` encodes as an empty payload. */
export const jsonCodec: Codec = {
  name: 'json',
  id: 0,
  encode(value: unknown): string {
    if (value === undefined) return '';
    // JSON.stringify answers undefined, not a string, for a function or symbol: refuse it, as msgpack does.
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) throw new TypeError(`a ${typeof value} cannot be encoded as JSON`);
    return text;
  },
  decode(bytes: Buffer): unknown {
    return bytes.length === 0 ? undefined : JSON.parse(bytes.toString('utf8'));
  },
};
