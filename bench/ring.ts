// `npm run bench:ring`: what consistent hashing costs and saves. Deterministic counts plus timings.
import {
  HashModuloBalancer,
  HashRing,
  makeEndpoint,
  murmur3,
  DEFAULT_VIRTUAL_NODES,
  MAX_ENDPOINT_WEIGHT,
  MAX_RING_POINTS,
  type Endpoint,
} from '../src/index';

const KEYS = 100_000;
const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
const cluster = (n: number, from = 1): Endpoint[] =>
  Array.from({ length: n }, (_, i) => makeEndpoint({ host: '10.0.0.1', port: 7000 + from + i }));

function ringOwners(list: Endpoint[]): string[] {
  const ring = new HashRing(list);
  return keys.map((k) => ring.lookup(k)!.id);
}
function moduloOwners(list: Endpoint[]): string[] {
  const b = new HashModuloBalancer();
  b.update(list);
  return keys.map((k) => b.pick({ service: 'S', method: 'm', shardKey: k })!.id);
}
function moved(a: string[], b: string[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n / a.length;
}
function timeNs(fn: () => void, reps: number): number {
  fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) fn();
  return Number(process.hrtime.bigint() - t0) / reps;
}

const ten = cluster(10);
const eleven = [...ten, ...cluster(1, 11)];
const nine = ten.slice(1);
const base = ringOwners(ten);
const counts = new Map<string, number>();
for (const id of base) counts.set(id, (counts.get(id) ?? 0) + 1);
const busiest = Math.max(...counts.values()) / (KEYS / 10);

console.log(`virtual nodes per unit of weight: ${DEFAULT_VIRTUAL_NODES}; ${KEYS} keys`);
console.log(
  `consistent hash, remove 1 of 10: moved ${(moved(base, ringOwners(nine)) * 100).toFixed(2)}% (ideal 10%, target ${(115 / 10).toFixed(1)}%)`,
);
console.log(
  `consistent hash, add 1 to 10:    moved ${(moved(base, ringOwners(eleven)) * 100).toFixed(2)}% (ideal ${(100 / 11).toFixed(2)}%, target ${(115 / 11).toFixed(2)}%)`,
);
console.log(`hash modulo,     remove 1 of 10: moved ${(moved(moduloOwners(ten), moduloOwners(nine)) * 100).toFixed(2)}%`);
console.log(`hash modulo,     add 1 to 10:    moved ${(moved(moduloOwners(ten), moduloOwners(eleven)) * 100).toFixed(2)}%`);
console.log(`busiest of 10 endpoints: ${busiest.toFixed(3)} × the mean (target 1.10)`);

const hundred = new HashRing(cluster(100));
let sink = 0;
let k = 0;
const lookupNs = timeNs(() => {
  sink ^= hundred.indexOf(murmur3(keys[k++ % KEYS]));
}, 2_000_000);
const hashNs = timeNs(() => {
  sink ^= murmur3(keys[k++ % KEYS]);
}, 2_000_000);
console.log(
  `lookup at 100 endpoints (${hundred.size} points): ${lookupNs.toFixed(0)} ns per key (of which murmur3 ${hashNs.toFixed(0)} ns)`,
);
for (const n of [10, 40, 100, 300, 1000]) {
  const list = cluster(n);
  const ms = timeNs(() => void new HashRing(list), n <= 40 ? 50 : 10) / 1e6;
  console.log(`ring build at ${n} endpoints: ${ms.toFixed(2)} ms (${new HashRing(list).size} points, target 5 ms at 300)`);
}
for (const [n, weight] of [
  [1, MAX_ENDPOINT_WEIGHT],
  [10, 100],
  [300, 10],
] as const) {
  const list = Array.from({ length: n }, (_, i) => makeEndpoint({ host: '10.0.0.2', port: 7000 + i, weight }));
  const ms = timeNs(() => void new HashRing(list), 10) / 1e6;
  console.log(
    `ring build at ${n} endpoint(s) of weight ${weight}: ${ms.toFixed(2)} ms (${new HashRing(list).size} points, at most ${MAX_RING_POINTS} + one per endpoint)`,
  );
}
if (sink === 0.5) console.log(sink);
