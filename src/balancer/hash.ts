/**
 * The shard-key hash: MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes of the key's canonical text
 * (docs/SHARDING.md has test vectors; test/balancer/hash.test.ts pins them). Chosen because it is fast in
 * JavaScript, well distributed, and a dozen lines in any language.
 */

let scratch = Buffer.allocUnsafe(256);

export function murmur3(text: string, seed = 0): number {
  if (text.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(text.length * 3);
  const len = scratch.write(text, 0, 'utf8');
  return murmur3Bytes(scratch, len, seed);
}

export function murmur3Bytes(bytes: Uint8Array, len = bytes.length, seed = 0): number {
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2] << 16;
    if (tail >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
