import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsistentHashBalancer, HashRing, makeEndpoint, MAX_ENDPOINT_WEIGHT, MAX_RING_POINTS, type Endpoint } from '../../src/index';

const cluster = (n: number, weight = 1): Endpoint[] =>
  Array.from({ length: n }, (_, i) => makeEndpoint({ host: '10.0.0.1', port: 7000 + i, weight }));
const pick = (b: ConsistentHashBalancer, key: string): string | undefined => b.pick({ service: 'S', method: 'm', shardKey: key })?.id;

test('the ring is built on the first shard-key pick, not on update, and not again when an endpoint only leaves the healthy set', () => {
  const b = new ConsistentHashBalancer();
  const list = cluster(10);
  b.update(list);
  const ring = b.currentRing;
  b.update(list.slice(1));
  assert.equal(b.currentRing, ring, 'an endpoint leaving the healthy set costs no rebuild');
  const fresh = new HashRing(list.slice(1));
  for (let i = 0; i < 500; i++)
    assert.equal(pick(b, `user-${i}`), fresh.lookup(`user-${i}`)?.id, 'skipping routes every key as a rebuilt ring would');
  b.update(list);
  assert.equal(b.currentRing, ring, 'coming back costs no rebuild either');
  b.update([...list, ...cluster(1, 2).map((e) => makeEndpoint({ host: '10.0.0.9', port: 1, weight: e.weight }))]);
  assert.notEqual(b.currentRing, ring, 'an endpoint the ring lacks rebuilds it');
});

test('total ring points are bounded whatever the endpoint count and weights', () => {
  for (const list of [cluster(300), cluster(1, MAX_ENDPOINT_WEIGHT), cluster(1000), cluster(40)]) {
    const ring = new HashRing(list);
    assert.ok(ring.size <= MAX_RING_POINTS + list.length, `${list.length} endpoints: ${ring.size} points`);
  }
  assert.equal(new HashRing(cluster(10)).size, 10_000, 'small rings keep 1000 points per unit of weight');
  assert.throws(() => makeEndpoint({ host: 'h', port: 1, weight: MAX_ENDPOINT_WEIGHT + 1 }), RangeError);
});
