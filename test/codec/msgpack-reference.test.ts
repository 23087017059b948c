import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Decoder, Encoder } from '@msgpack/msgpack';
import { msgpackCodec } from '../../src/index';

/*
 * MyRPC's MessagePack encoder and decoder against the reference implementation (@msgpack/msgpack with
 * ignoreUndefined): the same bytes out, the same values in, so peers using any MessagePack library agree.
 */
const reference = new Encoder({ ignoreUndefined: true });
const referenceDecoder = new Decoder();

const key = fc.string({ unit: 'binary', maxLength: 12 }).filter((k) => k !== '__proto__');
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x10000,
    0xffffffff,
    0x100000000,
    -0x20,
    -0x21,
    -0x80,
    -0x81,
    -0x8000,
    -0x8001,
    -0x80000000,
    -0x80000001,
  ),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.date({ min: new Date(-1e14), max: new Date(1e14), noInvalidDate: true }),
);
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'mp' },
    leaf,
    fc.array(tie('v'), { maxLength: 20, depthIdentifier: 'mp' }),
    fc.dictionary(key, fc.option(tie('v'), { nil: undefined }), { maxKeys: 20, noNullPrototype: true, depthIdentifier: 'mp' }),
  ),
})).v;

describe('MessagePack codec agrees with the reference implementation', () => {
  test('any value encodes to exactly the bytes the reference encoder writes', () => {
    fc.assert(
      fc.property(value, (v) => {
        assert.deepEqual(Buffer.from(msgpackCodec.encode(v)), Buffer.from(reference.encode(v)));
      }),
      { numRuns: 1500 },
    );
  });

  test('any reference encoding decodes to what the reference decoder gives', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = Buffer.from(reference.encode(v));
        // Given a plain Uint8Array, the reference decoder's byte arrays are plain Uint8Arrays too, as ours are.
        assert.deepEqual(msgpackCodec.decode(bytes), referenceDecoder.decode(new Uint8Array(bytes)));
      }),
      { numRuns: 1500 },
    );
  });

  test('long strings, arrays and maps take their 16- and 32-bit headers', () => {
    for (const v of [
      'x'.repeat(70_000),
      'é'.repeat(40_000),
      Array.from({ length: 70_000 }, (_, i) => i % 3),
      Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i])),
    ]) {
      const bytes = Buffer.from(msgpackCodec.encode(v));
      assert.deepEqual(bytes, Buffer.from(reference.encode(v)));
      assert.deepEqual(msgpackCodec.decode(bytes), v);
    }
  });

  test('a decoded byte array is a copy: reusing the frame buffer does not change it', () => {
    const bytes = Buffer.from(msgpackCodec.encode({ b: Buffer.from([1, 2, 3]) }));
    const decoded = msgpackCodec.decode(bytes) as { b: Uint8Array };
    bytes.fill(0);
    assert.deepEqual([...decoded.b], [1, 2, 3]);
  });

  test('an extension other than the timestamp, a map key that is not a string or number, and a 2-byte timestamp are refused', () => {
    assert.throws(() => msgpackCodec.decode(Buffer.from([0xd4, 0x05, 0x00])), /extension type 5 is not supported/);
    assert.throws(() => msgpackCodec.decode(Buffer.from([0x81, 0xc0, 0x01])), /map key must be a string or a number/);
    assert.throws(() => msgpackCodec.decode(Buffer.from([0xd5, 0xff, 0x00, 0x00])), /timestamp of 2 bytes/);
  });

  test('an array or map length larger than the payload is refused before anything is allocated', () => {
    assert.throws(() => msgpackCodec.decode(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])), /truncated/);
    assert.throws(() => msgpackCodec.decode(Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0x00])), /truncated/);
  });

  test('regression: a value nested 100,000 levels deep decodes, without overflowing the call stack', () => {
    const levels = 100_000;
    const bytes = Buffer.concat([Buffer.alloc(levels, 0x91), Buffer.from([0x81, 0xa1, 0x78, 0x01])]);
    let value = msgpackCodec.decode(bytes);
    for (let i = 0; i < levels; i++) {
      assert.ok(Array.isArray(value) && value.length === 1);
      value = value[0];
    }
    assert.deepEqual(value, { x: 1 });
  });
});
