import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  balancers,
  BalancerRegistry,
  HashModuloBalancer,
  LeastLoadedBalancer,
  makeEndpoint,
  RandomBalancer,
  RoundRobinBalancer,
  RpcError,
  WeightedRoundRobinBalancer,
  type Endpoint,
  type LoadInfo,
} from '../../src/index';
import { seededRandom } from '../helpers/random';

const eps = (n: number, weights: number[] = []): Endpoint[] =>
  Array.from({ length: n }, (_, i) =>
    makeEndpoint({ host: '127.0.0.1', port: 7001 + i, id: String.fromCharCode(97 + i), weight: weights[i] ?? 1 }),
  );
const req = { service: 'S', method: 'm' };

describe('round-robin', () => {
  test('takes each endpoint in turn and skips excluded ones', () => {
    const b = new RoundRobinBalancer();
    b.update(eps(3));
    assert.deepEqual(
      Array.from({ length: 6 }, () => b.pick(req)!.id),
      ['a', 'b', 'c', 'a', 'b', 'c'],
    );
    assert.equal(b.pick(req, new Set(['a']))!.id, 'b');
    assert.equal(b.pick(req, new Set(['a', 'b', 'c'])), undefined);
  });
  test('an empty list gives nothing', () => {
    assert.equal(new RoundRobinBalancer().pick(req), undefined);
  });
});

describe('smooth weighted round-robin', () => {
  test('5:1:1 interleaves as nginx does (a a b a c a a), never five in a row', () => {
    const b = new WeightedRoundRobinBalancer();
    b.update(eps(3, [5, 1, 1]));
    const seq = Array.from({ length: 14 }, () => b.pick(req)!.id).join('');
    assert.equal(seq, 'aabacaa'.repeat(2));
  });
  test('shares follow weights over many picks', () => {
    const b = new WeightedRoundRobinBalancer();
    b.update(eps(3, [3, 2, 1]));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 600; i++) {
      const id = b.pick(req)!.id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    assert.deepEqual(counts, { a: 300, b: 200, c: 100 });
  });
  test('excluded endpoints take no turn', () => {
    const b = new WeightedRoundRobinBalancer();
    b.update(eps(3, [5, 1, 1]));
    const seq = Array.from({ length: 4 }, () => b.pick(req, new Set(['a']))!.id).join('');
    assert.equal(seq, 'bcbc');
  });
});

describe('random', () => {
  test('is uniform enough with a seeded source, and honours exclusions', () => {
    const b = new RandomBalancer({ random: seededRandom(1) });
    b.update(eps(4));
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const id = b.pick(req)!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const n of counts.values()) assert.ok(n > 800 && n < 1200, `share ${n} of 4000 is far from uniform`);
    for (let i = 0; i < 50; i++) assert.notEqual(b.pick(req, new Set(['b']))!.id, 'b');
  });
});

describe('least-loaded (power of two choices)', () => {
  test('of two draws, takes the one with fewer calls in flight × latency', () => {
    const inFlight: Record<string, number> = { a: 10, b: 0, c: 10, d: 10 };
    const load: LoadInfo = { inFlight: (e) => inFlight[e.id], latencyMs: () => 5 };
    const b = new LeastLoadedBalancer({ load, random: seededRandom(7) });
    b.update(eps(4));
    let picksOfB = 0;
    for (let i = 0; i < 1000; i++) if (b.pick(req)!.id === 'b') picksOfB++;
    // b is drawn in one pair of two about half the time (1 - (3/4 × 2/3) = 1/2) and always wins then.
    assert.ok(picksOfB > 420 && picksOfB < 580, `b picked ${picksOfB} of 1000`);
  });
  test('slow endpoints lose to fast ones at equal load', () => {
    const load: LoadInfo = { inFlight: () => 1, latencyMs: (e) => (e.id === 'a' ? 100 : 1) };
    const b = new LeastLoadedBalancer({ load, random: seededRandom(3) });
    b.update(eps(2));
    for (let i = 0; i < 20; i++) assert.equal(b.pick(req)!.id, 'b');
  });
});

describe('hash-modulo', () => {
  test('routes by key and refuses a call without one', () => {
    const b = new HashModuloBalancer();
    b.update(eps(3));
    assert.equal(b.pick({ ...req, shardKey: 'k1' })!.id, b.pick({ ...req, shardKey: 'k1' })!.id);
    assert.throws(
      () => b.pick(req),
      (e: unknown) => RpcError.is(e) && e.code === 'INVALID_ARGUMENT',
    );
  });
});

describe('balancer registry', () => {
  test('resolves built-in names, takes plug-ins, and resets', () => {
    const registry = new BalancerRegistry();
    assert.deepEqual(registry.names().sort(), [
      'consistent-hash',
      'hash-modulo',
      'least-loaded',
      'random',
      'round-robin',
      'weighted-round-robin',
    ]);
    registry.register('first', () => ({ name: 'first', update() {}, pick: () => undefined }));
    assert.equal(registry.create('first').name, 'first');
    registry.reset();
    assert.throws(() => registry.create('first'), /unknown balancer 'first'/);
    assert.equal(balancers.create('round-robin').name, 'round-robin');
  });
});
