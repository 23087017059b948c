import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec } from '../../src/codec/json-codec';
import { msgpackCodec } from '../../src/codec/msgpack-codec';
import { RpcCode, type WireError } from '../../src/errors/rpc-error';
import { fitErrorPayload } from '../../src/protocol/error-fit';

const byteLength = (p: string | Uint8Array): number => (typeof p === 'string' ? Buffer.byteLength(p) : p.length);

describe('ERROR payloads cut to the peer limit', () => {
  for (const codec of [jsonCodec, msgpackCodec]) {
    for (const limit of [64, 100, 300, 1024]) {
      test(`${codec.name}, limit ${limit}: every code fits, with notRun kept, whatever the message and details`, () => {
        for (const code of Object.values(RpcCode)) {
          const wire: WireError = {
            code,
            message: 'é"\\'.repeat(2000),
            details: Array.from({ length: 50 }, (_, i) => ({ path: `args[${i}]`, message: 'x'.repeat(100) })),
            notRun: true,
          };
          const payload = fitErrorPayload(codec, wire, limit);
          assert.ok(payload !== undefined, `${code} did not fit ${limit}`);
          assert.ok(byteLength(payload) <= limit, `${code}: ${byteLength(payload)} bytes for a limit of ${limit}`);
          const decoded = codec.decode(Buffer.from(payload)) as WireError;
          assert.equal(decoded.code, code);
          assert.equal(decoded.notRun, true);
        }
      });
    }
    test(`${codec.name}: a payload within the limit is sent whole`, () => {
      const wire: WireError = { code: RpcCode.NOT_FOUND, message: 'no such user' };
      assert.deepEqual(codec.decode(Buffer.from(fitErrorPayload(codec, wire, 1024) as string | Uint8Array)), wire);
    });
  }
});
