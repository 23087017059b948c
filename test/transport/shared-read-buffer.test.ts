import { test } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { Method, Service, type RpcClient } from '../../src/index';
import { seededRandom } from '../helpers/random';
import { startServer } from '../helpers/servers';

/**
 * Plain TCP clients read into one buffer shared by every connection of the process, reused by each read: what
 * a connection keeps past a read (a frame cut by the read's end) must be its own copy. Many connections with
 * answers of every size at once, so that reads of different sockets interleave and frames straddle reads.
 */

@Service('Echo')
class EchoService {
  @Method()
  async echo(s: string, delayMs: number): Promise<string> {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return s;
  }
}

test('answers of every size over many plain TCP connections at once arrive intact', async (t) => {
  const started = await startServer([new EchoService()]);
  t.after(() => started.stop());
  const random = seededRandom(20261202);
  const clients: RpcClient[] = Array.from({ length: 6 }, () => started.client({ codec: random() < 0.5 ? 'json' : 'msgpack' }));
  const sizes = [0, 1, 100, 1000, 9_000, 65_000, 70_000, 200_000, 1_000_000];
  const text = (n: number, seed: number): string => {
    let s = '';
    while (s.length < n) s += `${seed}:${(seed * 2654435761) % 1000003};`;
    return s.slice(0, n);
  };
  const calls: Promise<void>[] = [];
  for (let i = 0; i < 240; i++) {
    const client = clients[i % clients.length];
    const want = text(sizes[Math.floor(random() * sizes.length)], i);
    const delayMs = Math.floor(random() * 3);
    calls.push(
      client.call('Echo', 'echo', [want, delayMs]).then((got) => {
        assert.equal(typeof got, 'string');
        assert.ok(got === want, `call ${i}: ${want.length} characters sent, ${(got as string).length} back, equal: ${got === want}`);
      }),
    );
  }
  await Promise.all(calls);
});
