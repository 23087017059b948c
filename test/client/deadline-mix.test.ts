import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Ctx, Method, RpcCode, Service, type CallContext } from '../../src/index';
import { MAX_DEADLINE_INSERT_STEPS } from '../../src/util/deadline-queue';
import { startServer } from '../helpers/servers';
import { rejection } from '../helpers/wait';

@Service('Hang')
class Hang {
  @Method() forever(@Ctx() ctx: CallContext): Promise<never> {
    return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
  }
}

describe('client deadlines share one timer per connection', () => {
  test('short deadlines behind many long ones still expire on time, each call with DEADLINE_EXCEEDED', { timeout: 10_000 }, async () => {
    const started = await startServer([new Hang()]);
    const client = started.client();
    try {
      await client.connect();
      // More long calls than an insertion may walk past, so the short ones take the fallback timer.
      const long = Array.from({ length: MAX_DEADLINE_INSERT_STEPS * 3 }, () => client.call('Hang', 'forever', [], { timeoutMs: 600 }));
      const t0 = performance.now();
      const short = await Promise.all([30, 60, 90].map((timeoutMs) => rejection(client.call('Hang', 'forever', [], { timeoutMs }))));
      const shortMs = performance.now() - t0;
      for (const err of short) assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
      assert.ok(shortMs < 550, `the short calls ended after ${shortMs.toFixed(0)} ms, before the long ones' 600 ms`);
      const longErrors = await Promise.all(long.map((c) => rejection(c)));
      for (const err of longErrors) assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
      assert.ok(performance.now() - t0 >= 600 - 1, 'the long calls waited for their own deadline');
      assert.equal(client.pendingCount, 0);
    } finally {
      await started.stop();
    }
  });
});
