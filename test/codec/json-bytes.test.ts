import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec, msgpackCodec } from '../../src/index';

const text = (v: unknown): string => jsonCodec.encode(v) as string;

test('JSON writes a byte array as base64 at any depth, Buffer or plain Uint8Array', () => {
  assert.equal(text(Buffer.from([3, 2, 1])), '"AwIB"');
  assert.equal(text([1, new Uint8Array([255, 0])]), '[1,"/wA="]');
  assert.equal(text({ a: { b: [{ c: Buffer.from('hi') }] } }), '{"a":{"b":[{"c":"aGk="}]}}');
  assert.equal(text(new Uint8Array(0)), '""');
  const view = Buffer.from([9, 8, 7, 6]).subarray(1, 3);
  assert.equal(text(view), JSON.stringify(Buffer.from([8, 7]).toString('base64')), 'a view encodes only its own bytes');
});

test('JSON finds bytes past the cheap scan: deeper than 6 levels, or after more than 256 objects', () => {
  let deep: unknown = { bytes: Buffer.from([1]) };
  for (let i = 0; i < 10; i++) deep = { next: deep };
  assert.match(text(deep), /"bytes":"AQ=="/);
  const wide = Array.from({ length: 300 }, (_, i) => ({ i }));
  wide.push({ i: 300, bytes: Buffer.from([2]) } as never);
  assert.match(text(wide), /"bytes":"Ag=="\}\]$/);
});

test('values without bytes encode exactly as JSON.stringify does', () => {
  for (const v of [5, 'x', null, [1, [2, [3]]], { a: 1, b: { c: [true, null] } }, new Date(0), { d: new Date(0) }]) {
    assert.equal(text(v), JSON.stringify(v));
  }
  assert.equal(text(new Float64Array([1.5])), JSON.stringify(new Float64Array([1.5])), 'other typed arrays are left to JSON');
});

test('regression: a Buffer result over MessagePack is bytes, not {type, data}', () => {
  const decoded = msgpackCodec.decode(Buffer.from(msgpackCodec.encode(Buffer.from([1, 2, 3]))));
  assert.ok(decoded instanceof Uint8Array, JSON.stringify(decoded));
  assert.deepEqual([...decoded], [1, 2, 3]);
  const nested = msgpackCodec.decode(Buffer.from(msgpackCodec.encode({ at: new Date(0), b: Buffer.from([4]) }))) as {
    at: Date;
    b: Uint8Array;
  };
  assert.equal(nested.at.getTime(), 0);
  assert.deepEqual([...nested.b], [4]);
});
