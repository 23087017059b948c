import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodecRegistry, codecs, jsonCodec, msgpackCodec, type Codec } from '../../src/index';

/*
 * Generators for "JSON-compatible" values: what docs/PROTOCOL.md (section 5) promises both codecs carry
 * unchanged. Left out, on purpose and as documented there:
 * - `-0`: JSON.stringify writes it as `0`, and msgpack encodes it as the integer 0: it comes back as `0`;
 * - `NaN`, `±Infinity`: JSON has no such numbers (stringify writes `null`);
 * - `undefined`: inside an array it becomes `null`, as an object property it disappears (both codecs);
 * - a `__proto__` key: the msgpack decoder refuses it (a prototype-pollution guard), JSON keeps it as data;
 * - lone UTF-16 surrogates: JSON escapes them (`\ud800`) and round-trips them, msgpack needs valid UTF-8.
 * Objects get a normal prototype, because decoding builds plain objects and deepEqual compares prototypes.
 */
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0));

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const anyCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });

/** Any JavaScript string, lone surrogates included (JSON's `\uXXXX` escapes carry them). */
const jsString = fc.string({ unit: fc.oneof(anyCodePoint, loneSurrogate), maxLength: 20 });
/** Well-formed Unicode: control characters, astral planes and grapheme clusters, no lone surrogates. */
const unicodeString = fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 10 }));

function jsonCompatible(str: fc.Arbitrary<string>, key: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'json' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      finiteDouble,
      str,
      fc.array(tie('value'), { maxLength: 5, depthIdentifier: 'json' }),
      fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true, depthIdentifier: 'json' }),
    ),
  })).value;
}

const forJson = jsonCompatible(jsString, jsString);
const forBoth = jsonCompatible(
  unicodeString,
  unicodeString.filter((k) => k !== '__proto__'),
);

const roundTrip = (codec: Codec, value: unknown): unknown => codec.decode(Buffer.from(codec.encode(value)));

describe('codecs: round trips', () => {
  test('jsonCodec: any JSON-compatible value round-trips, and the payload is plain JSON text', () => {
    fc.assert(
      fc.property(forJson, (value) => {
        const encoded = jsonCodec.encode(value);
        assert.equal(encoded, JSON.stringify(value), 'what other languages parse is plain JSON');
        assert.deepEqual(jsonCodec.decode(Buffer.from(encoded as string, 'utf8')), value);
      }),
      { numRuns: 1000 },
    );
  });

  test('msgpackCodec: any JSON-compatible value with well-formed strings round-trips', () => {
    fc.assert(
      fc.property(forBoth, (value) => {
        assert.deepEqual(roundTrip(msgpackCodec, value), value);
      }),
      { numRuns: 1000 },
    );
  });

  test('both codecs decode any JSON-compatible value to the same thing', () => {
    fc.assert(
      fc.property(forBoth, (value) => {
        assert.deepEqual(roundTrip(msgpackCodec, value), roundTrip(jsonCodec, value));
      }),
      { numRuns: 500 },
    );
  });

  test('decoding works on a view into a larger buffer (frame payloads are views)', () => {
    fc.assert(
      fc.property(forBoth, fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (value, before, after) => {
        for (const codec of [jsonCodec, msgpackCodec]) {
          const encoded = Buffer.from(codec.encode(value));
          const framed = Buffer.concat([before, encoded, after]);
          assert.deepEqual(codec.decode(framed.subarray(before.length, before.length + encoded.length)), value, codec.name);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('undefined is the empty payload and back; null is not empty', () => {
    for (const codec of [jsonCodec, msgpackCodec]) {
      assert.equal(Buffer.from(codec.encode(undefined)).length, 0, codec.name);
      assert.equal(codec.decode(Buffer.alloc(0)), undefined, codec.name);
      assert.equal(roundTrip(codec, null), null, codec.name);
    }
    assert.equal(jsonCodec.encode(null), 'null');
    assert.deepEqual([...(msgpackCodec.encode(null) as Uint8Array)], [0xc0]);
  });
});

describe('codecs: the documented differences from JavaScript values', () => {
  test('-0 arrives as 0 in both codecs', () => {
    for (const codec of [jsonCodec, msgpackCodec]) assert.ok(Object.is(roundTrip(codec, -0), 0), codec.name);
  });

  test('undefined in an array arrives as null, as a property it disappears, in both codecs', () => {
    for (const codec of [jsonCodec, msgpackCodec]) {
      assert.deepEqual(roundTrip(codec, [1, undefined, 3]), [1, null, 3], codec.name);
      assert.deepEqual(roundTrip(codec, { a: undefined, b: 2 }), { b: 2 }, codec.name);
    }
  });

  test('NaN and Infinity: null in JSON, kept by MessagePack', () => {
    assert.deepEqual(roundTrip(jsonCodec, [NaN, Infinity, -Infinity]), [null, null, null]);
    assert.deepEqual(roundTrip(msgpackCodec, [NaN, Infinity, -Infinity]), [NaN, Infinity, -Infinity]);
  });

  test('a Date: its ISO string in JSON, a Date again in MessagePack', () => {
    const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    assert.equal(roundTrip(jsonCodec, when), '2024-01-02T03:04:05.006Z');
    assert.deepEqual(roundTrip(msgpackCodec, when), when);
  });

  test('a __proto__ key: data in JSON, refused by the MessagePack decoder', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const back = roundTrip(jsonCodec, value) as Record<string, unknown>;
    assert.deepEqual(Object.keys(back), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.throws(() => roundTrip(msgpackCodec, value));
  });
});

describe('codecs: what cannot be encoded or decoded throws', () => {
  // regression: JSON.stringify answers undefined for these, which jsonCodec passed on as the payload and which
  // crashed the server process when a handler returned a function
  test('a function, a symbol, a BigInt or a cycle cannot be encoded, by either codec', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [() => 1, Symbol('s'), 10n, cycle]) {
      for (const codec of [jsonCodec, msgpackCodec]) {
        assert.throws(() => codec.encode(value), `${codec.name} must refuse ${typeof value}`);
      }
    }
  });

  test('malformed JSON throws', () => {
    for (const text of ['{', 'nul', '1 2', '"abc', '[1,]', "{'a':1}", 'undefined', '\u00ff']) {
      assert.throws(() => jsonCodec.decode(Buffer.from(text, 'utf8')), SyntaxError, JSON.stringify(text));
    }
  });

  test('JSON: a value with trailing bytes, or an unclosed array around it, throws', () => {
    fc.assert(
      fc.property(forJson, (value) => {
        const text = jsonCodec.encode(value) as string;
        assert.throws(() => jsonCodec.decode(Buffer.from(`${text}]`, 'utf8')), SyntaxError);
        assert.throws(() => jsonCodec.decode(Buffer.from(`[${text}`, 'utf8')), SyntaxError);
      }),
      { numRuns: 300 },
    );
  });

  test('MessagePack: any strict prefix of an encoding, or an encoding with extra bytes, throws', () => {
    fc.assert(
      fc.property(forBoth, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }), (value, cut, extra) => {
        const encoded = Buffer.from(msgpackCodec.encode(value));
        const prefix = encoded.subarray(0, 1 + (cut % encoded.length));
        if (prefix.length < encoded.length) assert.throws(() => msgpackCodec.decode(prefix));
        assert.throws(() => msgpackCodec.decode(Buffer.concat([encoded, extra])));
      }),
      { numRuns: 300 },
    );
  });

  test('MessagePack: the reserved byte 0xc1 throws', () => {
    assert.throws(() => msgpackCodec.decode(Buffer.from([0xc1])));
    assert.throws(() => msgpackCodec.decode(Buffer.from([0x92, 0x01, 0xc1])));
  });
});

describe('CodecRegistry', () => {
  const textCodec: Codec = {
    name: 'text',
    id: 7,
    encode: (value) => (value === undefined ? '' : String(value)),
    decode: (bytes) => (bytes.length === 0 ? undefined : bytes.toString('utf8')),
  };

  test('resolves by name, by object, and defaults to JSON', () => {
    const registry = new CodecRegistry();
    assert.equal(registry.resolve('json'), jsonCodec);
    assert.equal(registry.resolve('msgpack'), msgpackCodec);
    assert.equal(registry.resolve(undefined), jsonCodec);
    assert.equal(registry.resolve(textCodec), textCodec, 'a codec object is used as given');
    assert.equal(registry.byIdOf(0), jsonCodec);
    assert.equal(registry.byIdOf(1), msgpackCodec);
    assert.equal(registry.byIdOf(7), undefined);
  });

  test('an unknown name is an error that lists the known ones', () => {
    assert.throws(() => new CodecRegistry().resolve('xml'), { message: "unknown codec 'xml' (known: json, msgpack)" });
  });

  test('a new codec is found by name and by preface byte', () => {
    const registry = new CodecRegistry();
    registry.add(textCodec);
    assert.equal(registry.resolve('text'), textCodec);
    assert.equal(registry.byIdOf(7), textCodec);
  });

  test('an id taken by another codec is refused, and the table is left as it was', () => {
    const registry = new CodecRegistry();
    assert.throws(() => registry.add({ ...textCodec, id: 0 }), { message: "codec id 0 is taken by 'json'" });
    assert.throws(() => registry.resolve('text'), /unknown codec 'text'/);
    assert.equal(registry.byIdOf(0), jsonCodec);
  });

  test('re-adding a codec under its own name and id replaces it', () => {
    const registry = new CodecRegistry();
    const json2: Codec = { ...jsonCodec };
    registry.add(json2);
    assert.equal(registry.resolve('json'), json2);
    assert.equal(registry.byIdOf(0), json2);
  });

  test('ids must be integers 0-255', () => {
    const registry = new CodecRegistry();
    for (const id of [-1, 256, 1.5, NaN]) assert.throws(() => registry.add({ ...textCodec, id }), RangeError, `id ${id}`);
  });

  test('reset drops added codecs and restores JSON and MessagePack', () => {
    const registry = new CodecRegistry([textCodec]);
    assert.throws(() => registry.resolve('json'), /unknown codec 'json' \(known: text\)/);
    registry.reset();
    assert.equal(registry.resolve('json'), jsonCodec);
    assert.equal(registry.resolve('msgpack'), msgpackCodec);
    assert.throws(() => registry.resolve('text'));
    assert.equal(registry.byIdOf(7), undefined);
  });

  test('registries are independent of each other and of the default table', () => {
    const a = new CodecRegistry();
    a.add(textCodec);
    assert.throws(() => new CodecRegistry().resolve('text'));
    assert.throws(() => codecs.resolve('text'));
  });
});
