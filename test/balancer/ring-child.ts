// Forked by consistent-hash.test.ts: computes owners in a separate process and sends them back.
import { HashRing, makeEndpoint } from '../../src/index';

const ring = new HashRing(Array.from({ length: 10 }, (_, i) => makeEndpoint({ host: '10.0.0.1', port: 7001 + i })));
process.send?.(Array.from({ length: 5000 }, (_, i) => ring.lookup(`user-${i}`)!.id));
