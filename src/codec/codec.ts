/**
 * Turns values into payload bytes and back. One codec is chosen per connection in the preface.
 */
export interface Codec {
  /** Name used in options (`'json'`, `'msgpack'`). */
  readonly name: string;
  /** Byte sent in the preface; 0-255, unique among registered codecs. */
  readonly id: number;
  /**
   * Encodes a value. May return a string, which the frame writer encodes as UTF-8 straight into its buffer.
   * Throws when the value cannot be encoded (the server then answers `INTERNAL`).
   */
  encode(value: unknown): string | Uint8Array;
  /** Decodes one payload. `bytes` may be a view into a larger buffer; do not keep it. Throws on malformed input. */
  decode(bytes: Buffer): unknown;
}
