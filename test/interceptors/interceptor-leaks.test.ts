import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Ctx,
  Method,
  RpcCode,
  RpcError,
  Service,
  withOptions,
  type CallContext,
  type ClientInterceptor,
  type ServerInterceptor,
} from '../../src/index';
import { startServer } from '../helpers/servers';
import { until } from '../helpers/wait';
import { seededRandom } from '../helpers/random';

@Service('Slow')
class Slow {
  running = 0;

  @Method()
  wait(ms: number, @Ctx() ctx: CallContext): Promise<number> {
    this.running++;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.running--;
        clearTimeout(timer);
      };
      const timer = setTimeout(() => (done(), resolve(ms)), ms);
      ctx.signal.addEventListener('abort', () => (done(), reject(ctx.signal.reason)), { once: true });
    });
  }
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('through interceptors, calls that succeed, time out, are cancelled or refused leave nothing behind', async (t) => {
  const refuseOdd: ServerInterceptor = (next) => async (call) => {
    if ((call.args[0] as number) % 7 === 0) throw new RpcError(RpcCode.PERMISSION_DENIED, 'no sevens');
    return next(call);
  };
  const passServer: ServerInterceptor = (next) => (call) => next(call);
  const passClient: ClientInterceptor = (next) => (call) => next(call);
  const slow = new Slow();
  const s = await startServer([slow], { interceptors: [passServer, refuseOdd] });
  t.after(() => s.stop());
  const client = s.client({ interceptors: [passClient] });
  const proxy = client.proxy(Slow);
  await proxy.wait(1);
  const baseline = timers();
  const random = seededRandom(1107);
  const codes = new Map<string, number>();
  for (let round = 0; round < 10; round++) {
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const ms = Math.floor(random() * 40);
        const controller = new AbortController();
        if (random() < 0.3) setTimeout(() => controller.abort(), Math.floor(random() * 30));
        const timeoutMs = random() < 0.3 ? 5 + Math.floor(random() * 20) : 5000;
        const code = await withOptions(proxy, { signal: controller.signal, timeoutMs })
          .wait(ms)
          .then(
            () => 'OK',
            (e: RpcError) => e.code,
          );
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }),
    );
  }
  for (const code of ['OK', 'CANCELLED', 'DEADLINE_EXCEEDED', 'PERMISSION_DENIED'])
    assert.ok((codes.get(code) ?? 0) > 0, `some ${code}: ${JSON.stringify([...codes])}`);
  await until(() => s.server.inFlight === 0 && slow.running === 0, 3000, 'every call and handler to end on the server');
  assert.equal(client.pendingCount, 0);
  await until(() => timers() <= baseline, 3000, `timers back to ${baseline} (now ${timers()})`);
});
