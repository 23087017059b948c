import type { Codec } from './codec';
import { jsonCodec } from './json-codec';
import { msgpackCodec } from './msgpack-codec';

/** Name and preface byte → codec. Tests may add codecs and reset the table. */
export class CodecRegistry {
  private readonly byName = new Map<string, Codec>();
  private readonly byId = new Map<number, Codec>();

  constructor(codecs: readonly Codec[] = [jsonCodec, msgpackCodec]) {
    for (const c of codecs) this.add(c);
  }

  add(codec: Codec): void {
    if (!Number.isInteger(codec.id) || codec.id < 0 || codec.id > 255) throw new RangeError(`codec '${codec.name}': id must be 0-255`);
    const clash = this.byId.get(codec.id);
    if (clash && clash.name !== codec.name) throw new Error(`codec id ${codec.id} is taken by '${clash.name}'`);
    this.byName.set(codec.name, codec);
    this.byId.set(codec.id, codec);
  }

  byIdOf(id: number): Codec | undefined {
    return this.byId.get(id);
  }

  /** Accepts a codec object or a registered name. */
  resolve(codec: Codec | string | undefined): Codec {
    if (codec === undefined) return jsonCodec;
    if (typeof codec !== 'string') return codec;
    const found = this.byName.get(codec);
    if (!found) throw new Error(`unknown codec '${codec}' (known: ${[...this.byName.keys()].join(', ')})`);
    return found;
  }

  reset(): void {
    this.byName.clear();
    this.byId.clear();
    this.add(jsonCodec);
    this.add(msgpackCodec);
  }
}

/** The default table used by servers and clients that are not given one. */
export const codecs = new CodecRegistry();
