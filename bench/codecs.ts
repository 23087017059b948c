// `node dist/bench/codecs.js`: ns per encode and decode of the bench's payloads (the request envelope and the
// result), MyRPC's codecs against the reference MessagePack implementation (@msgpack/msgpack, a dev
// dependency, with reused Encoder/Decoder instances). One process, no network: the codec's own cost.
import { Decoder, Encoder } from '@msgpack/msgpack';
import { jsonCodec, msgpackCodec } from '../src/index';
import { encodeRequest } from '../src/protocol/request';
import { renderTable } from './format';
import { ADD_ARGS, PAYLOADS } from './workloads';

const REPS = Number(process.argv[2] ?? 200_000);
const reference = new Encoder({ ignoreUndefined: true });
const referenceDecoder = new Decoder();

function nsPer(fn: () => unknown): number {
  for (let i = 0; i < 20_000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < REPS; i++) fn();
  return Number(process.hrtime.bigint() - t0) / REPS;
}

const CASES: [string, unknown][] = [
  ['add request', encodeRequest('BenchService', 'add', [...ADD_ARGS], 30_000)],
  ['add result', 6912],
  ['echo 1 KiB request', encodeRequest('BenchService', 'echo', [PAYLOADS['echo-1k']], 30_000)],
  ['echo 1 KiB result', PAYLOADS['echo-1k']],
  ['object', { id: 123_456, name: 'héllo wörld', tags: ['a', 'b', 'c'], nested: { x: 1.5, y: -7, ok: true }, at: new Date(0) }],
];

const rows = CASES.map(([name, value]) => {
  const json = Buffer.from(jsonCodec.encode(value) as string);
  const packed = Buffer.from(reference.encode(value));
  return [
    name,
    nsPer(() => jsonCodec.encode(value)),
    nsPer(() => jsonCodec.decode(json)),
    nsPer(() => reference.encodeSharedRef(value)),
    nsPer(() => referenceDecoder.decode(packed)),
    nsPer(() => msgpackCodec.encode(value)),
    nsPer(() => msgpackCodec.decode(packed)),
  ].map((v) => (typeof v === 'number' ? v.toFixed(0) : v));
});
console.log(`ns per call, ${REPS.toLocaleString('en-US')} calls each:`);
console.log(
  renderTable(
    ['payload', ' JSON enc', ' JSON dec', ' @msgpack/msgpack enc', ' @msgpack/msgpack dec', ' MyRPC msgpack enc', ' MyRPC msgpack dec'],
    rows,
  ),
);
