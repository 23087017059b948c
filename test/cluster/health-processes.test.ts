import 'reflect-metadata';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, RpcCode, RpcError } from '../../src/index';
import { forkListening, type Forked } from '../helpers/processes';
import { Answers } from './health-child';

const CHILD = join(__dirname, 'health-child.js');

test('server processes answering UNAVAILABLE or NOT_FOUND: no server is ejected, no retry token is spent, ping still works', async () => {
  const children: Forked[] = [];
  try {
    children.push(
      ...(await Promise.all([
        forkListening(CHILD, ['a', RpcCode.UNAVAILABLE]),
        forkListening(CHILD, ['b', RpcCode.UNAVAILABLE]),
        forkListening(CHILD, ['c', RpcCode.NOT_FOUND]),
      ])),
    );
    const cluster = new ClusterClient({
      endpoints: children.map((c) => ({ host: '127.0.0.1', port: c.port })),
      circuitBreaker: { failureThreshold: 2 },
    });
    try {
      const api = cluster.proxy(Answers);
      const codes = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        try {
          await api.work();
        } catch (err) {
          const code = RpcError.is(err) ? err.code : 'other';
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
      assert.equal((codes.get(RpcCode.UNAVAILABLE) ?? 0) + (codes.get(RpcCode.NOT_FOUND) ?? 0), 30, "every call got its server's answer");
      assert.ok((codes.get(RpcCode.NOT_FOUND) ?? 0) > 0);
      assert.deepEqual(
        cluster.stats().map((s) => s.breaker),
        ['closed', 'closed', 'closed'],
        'no server ejected',
      );
      const pings = new Set<string>();
      for (let i = 0; i < 3; i++) pings.add(await api.ping());
      assert.deepEqual([...pings].sort(), ['a', 'b', 'c'], 'every server still serves ping');
    } finally {
      await cluster.close();
    }
    const notFound = new ClusterClient({ endpoints: [{ host: '127.0.0.1', port: children[2].port }] });
    try {
      for (let i = 0; i < 30; i++)
        await assert.rejects(notFound.proxy(Answers).work(), (e: unknown) => RpcError.is(e) && e.code === RpcCode.NOT_FOUND);
      assert.equal(notFound.retryTokens, 10, 'NOT_FOUND answers spend no retry token');
    } finally {
      await notFound.close();
    }
  } finally {
    for (const c of children) c.child.kill('SIGKILL');
  }
});
