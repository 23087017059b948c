import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashRing, makeEndpoint, murmur3, type Endpoint } from '../../src/index';

const DOC = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'SHARDING.md'), 'utf8');

const at = (port: number, weight = 1): Endpoint => makeEndpoint({ host: '10.0.0.1', port, weight });
const RINGS = {
  A: new HashRing([at(7001), at(7002), at(7003)]),
  B: new HashRing([at(7001), at(7002)]),
  C: new HashRing([at(7001), at(7002, 2), at(7003)]),
};

/** The rows of the table after `<!-- ring-vectors -->`: key, hash, owner in A, B, C. */
function docRows(): string[][] {
  const table = DOC.split('<!-- ring-vectors -->')[1] ?? '';
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/`/g, '')),
    );
}

test('the ring vectors in docs/SHARDING.md (key -> owner for fixed endpoint sets) match the library', () => {
  const rows = docRows();
  assert.ok(rows.length >= 10, `expected the ring vectors table, found ${rows.length} rows`);
  for (const [key, hash, a, b, c] of rows) {
    assert.equal(String(murmur3(key)), hash, `murmur3(${key})`);
    assert.deepEqual([RINGS.A.lookup(key)?.id, RINGS.B.lookup(key)?.id, RINGS.C.lookup(key)?.id], [a, b, c], key);
  }
});
