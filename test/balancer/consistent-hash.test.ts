import { execFileSync, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalShardKey,
  ConsistentHashBalancer,
  HashModuloBalancer,
  HashRing,
  makeEndpoint,
  murmur3,
  RpcError,
  type Endpoint,
} from '../../src/index';

const KEYS = 100_000;
const cluster = (n: number, from = 1): Endpoint[] =>
  Array.from({ length: n }, (_, i) => makeEndpoint({ host: '10.0.0.1', port: 7000 + from + i }));
const keyOf = (i: number): string => `user-${i}`;

function owners(ring: HashRing): string[] {
  return Array.from({ length: KEYS }, (_, i) => ring.lookup(keyOf(i))!.id);
}
function movedShare(before: string[], after: string[]): number {
  let moved = 0;
  for (let i = 0; i < KEYS; i++) if (before[i] !== after[i]) moved++;
  return moved / KEYS;
}

/** Published MurmurHash3 x86_32 values (seed 0) plus our own, also checked against samples/python/shard_ring.py. */
export const HASH_VECTORS: [string, number][] = [
  ['', 0],
  ['a', 1009084850],
  ['abcd', 1139631978],
  ['hello', 613153351],
  ['The quick brown fox jumps over the lazy dog', 776992547],
  ['user-42', 3111312080],
  ['42', 3159925814],
  ['ключ', 2589532226],
  ['127.0.0.1:7001#0', 6588041],
];

describe('shard-key hash and canonical form', () => {
  test('murmur3 matches the test vectors in docs/SHARDING.md', () => {
    for (const [text, hash] of HASH_VECTORS) assert.equal(murmur3(text), hash, text);
  });
  test('canonical text: strings, safe integers, bigints and booleans; nothing else', () => {
    assert.equal(canonicalShardKey('k'), 'k');
    assert.equal(canonicalShardKey(42), '42');
    assert.equal(canonicalShardKey(-7), '-7');
    assert.equal(canonicalShardKey(12345678901234567890n), '12345678901234567890');
    assert.equal(canonicalShardKey(true), 'true');
    for (const bad of [1.5, NaN, Infinity, 2 ** 60, null, undefined, {}, [], Symbol('s')])
      assert.equal(canonicalShardKey(bad), undefined, String(bad));
  });
});

describe('consistent-hash ring', () => {
  test('adding or removing one of 10 endpoints moves at most 1.15 × 1/N of 100,000 keys, and only to or from it', () => {
    const ten = cluster(10);
    const base = owners(new HashRing(ten));
    for (const removed of ten) {
      const after = owners(new HashRing(ten.filter((e) => e !== removed)));
      assert.ok(movedShare(base, after) <= 1.15 / 10, `removing ${removed.id} moved ${movedShare(base, after)}`);
      for (let i = 0; i < KEYS; i++) if (base[i] !== removed.id) assert.equal(after[i], base[i], 'a key of another endpoint moved');
    }
    const added = cluster(1, 11)[0];
    const grown = owners(new HashRing([...ten, added]));
    assert.ok(movedShare(base, grown) <= 1.15 / 11, `adding moved ${movedShare(base, grown)}`);
    for (let i = 0; i < KEYS; i++) if (grown[i] !== base[i]) assert.equal(grown[i], added.id, 'a key moved between old endpoints');
  });

  test('with the default virtual nodes at 10 endpoints, the busiest holds at most 1.10 × the mean', () => {
    const counts = new Map<string, number>();
    for (const id of owners(new HashRing(cluster(10)))) counts.set(id, (counts.get(id) ?? 0) + 1);
    const max = Math.max(...counts.values());
    assert.ok(max <= 1.1 * (KEYS / 10), `busiest holds ${max / (KEYS / 10)} × the mean`);
  });

  test('hash-modulo, for contrast, moves most keys when one endpoint is removed', () => {
    const ten = cluster(10);
    const pick = (list: Endpoint[]): string[] => {
      const b = new HashModuloBalancer();
      b.update(list);
      return Array.from({ length: KEYS }, (_, i) => b.pick({ service: 'S', method: 'm', shardKey: keyOf(i) })!.id);
    };
    assert.ok(movedShare(pick(ten), pick(ten.slice(1))) > 0.8);
  });

  test('weights scale the share of keys', () => {
    const [a, b] = cluster(2);
    const heavy = makeEndpoint({ host: a.host, port: a.port, weight: 3 });
    const counts = new Map<string, number>();
    for (const id of owners(new HashRing([heavy, b]))) counts.set(id, (counts.get(id) ?? 0) + 1);
    const share = counts.get(heavy.id)! / KEYS;
    assert.ok(share > 0.7 && share < 0.8, `weight 3 of 4 took ${share}`);
  });

  test('the ring does not depend on the order endpoints are listed in', () => {
    const ten = cluster(10);
    assert.deepEqual(owners(new HashRing(ten)).slice(0, 2000), owners(new HashRing([...ten].reverse())).slice(0, 2000));
  });

  test('a call without a shard key is refused, never routed at random', () => {
    const b = new ConsistentHashBalancer();
    b.update(cluster(3));
    assert.throws(
      () => b.pick({ service: 'KV', method: 'get' }),
      (e: unknown) => RpcError.is(e) && e.code === 'INVALID_ARGUMENT' && /no shard key/.test(e.message),
    );
  });

  test('bounded loads: a full endpoint passes calls on along the ring, within c × the mean', () => {
    const eps = cluster(4);
    const inFlight = new Map<string, number>(eps.map((e) => [e.id, 0]));
    const b = new ConsistentHashBalancer({ boundedLoadFactor: 1.25, load: { inFlight: (e) => inFlight.get(e.id)!, latencyMs: () => 0 } });
    b.update(eps);
    // Every call has the same key: without bounds one endpoint would take all 400.
    for (let i = 0; i < 400; i++) {
      const e = b.pick({ service: 'S', method: 'm', shardKey: 'hot' })!;
      inFlight.set(e.id, inFlight.get(e.id)! + 1);
    }
    const max = Math.max(...inFlight.values());
    assert.ok(max <= Math.ceil((1.25 * 400) / 4), `busiest took ${max}`);
    const free = new ConsistentHashBalancer();
    free.update(eps);
    const home = free.pick({ service: 'S', method: 'm', shardKey: 'hot' })!;
    assert.equal(inFlight.get(home.id), max, "the key's own endpoint is filled first");
  });

  test('two separate processes map the same keys to the same endpoints', async () => {
    const child = fork(join(__dirname, 'ring-child.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const theirs = await new Promise<string[]>((resolve, reject) => {
      child.once('message', (m) => resolve(m as string[]));
      child.once('error', reject);
    });
    child.kill();
    const ring = new HashRing(cluster(10));
    assert.deepEqual(
      theirs,
      Array.from({ length: 5000 }, (_, i) => ring.lookup(keyOf(i))!.id),
    );
  });

  const python = ['python3', 'python'].find((p) => {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  const script = join(__dirname, '../../../samples/python/shard_ring.py');
  test(
    'a Python implementation written from docs/SHARDING.md agrees',
    { skip: python && existsSync(script) ? false : 'python3 not found' },
    () => {
      const out = execFileSync(
        python as string,
        [
          script,
          '--endpoints',
          cluster(10)
            .map((e) => e.id)
            .join(','),
          '--keys',
          '2000',
        ],
        { encoding: 'utf8' },
      );
      const ring = new HashRing(cluster(10));
      const expected = Array.from({ length: 2000 }, (_, i) => `${keyOf(i)} ${ring.lookup(keyOf(i))!.id}`);
      assert.deepEqual(out.trim().split('\n'), expected);
    },
  );
});
