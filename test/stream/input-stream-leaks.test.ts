/**
 * After hundreds of client and bidi streams that complete, are cancelled, time out, have their source throw, or
 * are ended early by either side, nothing is left behind: no pending call or stream on the client, no call in
 * flight on the server, no abort listener on the callers' signals, and every caller's iterable closed.
 */
import 'reflect-metadata';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, Method, RpcError, Service, withOptions, type CallContext } from '../../src/index';
import { startServer } from '../helpers/servers';
import { until } from '../helpers/wait';
import { seededRandom } from '../helpers/random';

const STREAMS = 300;

@Service('Churn')
class Churn {
  running = 0;

  @Method({ stream: 'client' }) async take(items: AsyncIterable<number>, n: number, @Ctx() ctx: CallContext): Promise<number> {
    this.running++;
    try {
      let seen = 0;
      for await (const _ of items) {
        if (++seen >= n) break;
        if (ctx.signal.aborted) break;
      }
      return seen;
    } finally {
      this.running--;
    }
  }

  @Method({ stream: 'bidi' }) async *echo(items: AsyncIterable<number>, n: number): AsyncGenerator<number> {
    this.running++;
    try {
      let seen = 0;
      for await (const x of items) {
        yield x;
        if (++seen >= n) return;
      }
    } finally {
      this.running--;
    }
  }
}

test('client and bidi streams that end every which way leave nothing behind', async () => {
  const churn = new Churn();
  const s = await startServer([churn], { maxConcurrentCalls: 1000 });
  const client = s.client();
  const random = seededRandom(20261202);
  const signals: AbortSignal[] = [];
  const closed: boolean[] = [];
  const modes: string[] = [];
  try {
    const runs = Array.from({ length: STREAMS }, async (_, i) => {
      const ac = new AbortController();
      signals.push(ac.signal);
      const mode = Math.floor(random() * 5); // 0 done, 1 abort, 2 deadline, 3 source throws, 4 server ends early
      const length = mode === 0 ? 20 : 1_000_000;
      modes[i] = `${i % 2 === 0 ? 'take' : 'echo'}:${mode}`;
      // A generator that never started has no finally to run: it counts as closed once return() ends it.
      closed[i] = true;
      const source = (async function* () {
        closed[i] = false;
        try {
          for (let k = 0; k < length; k++) {
            if (mode === 3 && k === 5) throw new Error('source broke');
            if (k % 8 === 0) await new Promise((r) => setTimeout(r, 1));
            yield k;
          }
        } finally {
          closed[i] = true;
        }
      })();
      const options = { signal: ac.signal, timeoutMs: mode === 2 ? 30 : 10_000 };
      if (mode === 1) setTimeout(() => ac.abort(), 5 + random() * 20);
      const n = mode === 4 ? 3 : 1_000_000_000;
      const proxy = withOptions(client.proxy(Churn), options);
      try {
        if (i % 2 === 0) await proxy.take(source, n);
        else for await (const _ of proxy.echo(source, n)) void _;
      } catch (err) {
        assert.ok(RpcError.is(err), `stream ${i} (mode ${mode}) failed with ${String(err)}`);
        assert.ok(mode !== 0 && mode !== 4, `stream ${i} should have ended well (mode ${mode}): ${String(err)}`);
      }
    });
    await Promise.all(runs);
    assert.equal(client.pendingCount, 0);
    await until(() => s.server.inFlight === 0, 5_000, `server.inFlight to reach 0 (is ${s.server.inFlight})`);
    await until(() => churn.running === 0, 5_000, `handlers to end (${churn.running} running)`);
    await until(
      () => closed.every(Boolean),
      5_000,
      `every source closed (open: ${[...new Set(modes.filter((_, i) => !closed[i]))].join(', ')})`,
    );
    assert.equal(signals.filter((sig) => getEventListeners(sig, 'abort').length > 0).length, 0, 'abort listeners left');
  } finally {
    await s.stop();
  }
});
