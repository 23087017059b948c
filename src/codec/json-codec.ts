import type { Codec } from './codec';

/** JSON, the default: any language can speak it. `undefined` encodes as an empty payload. */
export const jsonCodec: Codec = {
  name: 'json',
  id: 0,
  encode(value: unknown): string {
    return value === undefined ? '' : JSON.stringify(value);
  },
  decode(bytes: Buffer): unknown {
    return bytes.length === 0 ? undefined : JSON.parse(bytes.toString('utf8'));
  },
};
