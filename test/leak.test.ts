import 'reflect-metadata';
import { getEventListeners } from 'node:events';
import { Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Ctx,
  Method,
  RpcClient,
  RpcCode,
  RpcError,
  RpcServer,
  Service,
  withOptions,
  type CallContext,
  type ServiceProxy,
} from '../src/index';
import { until, watchUnhandledRejections } from './helpers/wait';
import { seededRandom } from './helpers/random';

/*
 * After tens of thousands of calls that succeed, time out on the client, are cancelled at random moments,
 * hit the server's handle timeout or lose their connection mid-flight, nothing may be left behind: no pending
 * entry, no call in flight on the server, no timer, no abort listener on the caller's signals, no handler
 * still running past its aborted signal.
 */

const ROUNDS = 60;
const CALLS_PER_ROUND = 400; // 24,000 calls in all
const CLIENTS = 4;
const SEED = Number(process.env.LEAK_SEED ?? 20240611);

/** Handlers count themselves in and out and honour their signal; `wait` with a huge `ms` ends only by abort. */
@Service('Leak')
class LeakService {
  running = 0;
  endedByTimer = 0;
  endedByAbort = 0;
  /** A sample of contexts, to show the server keeps none of them alive (counted without deref(), which would pin them). */
  contextsSampled = 0;
  contextsCollected = 0;
  private readonly contextRegistry = new FinalizationRegistry<void>(() => this.contextsCollected++);

  @Method() ok(i: number): number {
    return i;
  }

  @Method() async later(i: number): Promise<number> {
    await Promise.resolve();
    return i;
  }

  @Method() wait(ms: number, @Ctx() ctx: CallContext): Promise<string> {
    return this.until(ms, ctx);
  }

  @Method({ timeoutMs: 20 }) capped(@Ctx() ctx: CallContext): Promise<string> {
    return this.until(3_600_000, ctx);
  }

  private until(ms: number, ctx: CallContext): Promise<string> {
    if (this.contextsSampled < 500) {
      this.contextsSampled++;
      this.contextRegistry.register(ctx, undefined);
    }
    const signal = ctx.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    this.running++;
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.running--;
      };
      const onAbort = (): void => {
        finish();
        this.endedByAbort++;
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        finish();
        this.endedByTimer++;
        resolve('waited');
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * Every timer made through the global setTimeout while installed, minus those that fired or were cleared.
 * Needed because process.getActiveResourcesInfo() does not list unref'd timers, and the library unrefs all its own.
 */
function timerCensus(): { live(): string[]; readonly created: number; uninstall(): void } {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Map<unknown, string>();
  let created = 0;
  const patchedSet = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const site = new Error().stack?.split('\n')[2]?.trim() ?? '?';
    const timer = realSet(
      (...a: unknown[]) => {
        live.delete(timer);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.set(timer, site);
    created++;
    return timer;
  }) as unknown as typeof setTimeout;
  const patchedClear = ((timer: Parameters<typeof clearTimeout>[0]) => {
    live.delete(timer);
    realClear(timer);
  }) as unknown as typeof clearTimeout;
  globalThis.setTimeout = patchedSet;
  globalThis.clearTimeout = patchedClear;
  return {
    live: () => [...live.values()],
    get created() {
      return created;
    },
    uninstall() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

function activeResources(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

/** A client whose current socket the test can destroy mid-flight. */
interface TrackedClient {
  readonly client: RpcClient;
  readonly proxy: ServiceProxy<LeakService>;
  readonly socket: Socket | undefined;
}

function newClient(port: number): TrackedClient {
  let socket: Socket | undefined;
  const client = new RpcClient({
    port,
    defaultTimeoutMs: 5_000,
    createConnection: (o) => (socket = new Socket().connect(o)),
  });
  return {
    client,
    proxy: client.proxy(LeakService),
    get socket() {
      return socket;
    },
  };
}

/** Whether `work` settles within `ms`; the guard timer is cancelled either way. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  const guard = new AbortController();
  const timeout = sleep(ms, false, { signal: guard.signal }).catch(() => false);
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    guard.abort();
  }
}

type Kind = 'ok' | 'later' | 'short' | 'timeout' | 'cancel' | 'capped';
/** What each kind of call is meant to end with; connection loss (UNAVAILABLE) and client close (CANCELLED) can hit any. */
const EXPECTED: Record<Kind, string> = {
  ok: 'value',
  later: 'value',
  short: 'value',
  timeout: 'DEADLINE_EXCEEDED/call',
  cancel: 'CANCELLED',
  capped: 'DEADLINE_EXCEEDED/handle',
};

/** Runs the mixed calls and keeps what the checks need. Clients live only here, so the test frame holds none. */
class Workload {
  readonly service = new LeakService();
  readonly server = new RpcServer();
  readonly clients: TrackedClient[] = [];
  readonly everyClient: TrackedClient[] = [];
  /** Every caller signal, aborted or not, to check that no abort listener is left on it. */
  readonly signals: AbortSignal[] = [];
  readonly tally = new Map<string, number>();
  disconnects = 0;
  replaced = 0;
  private port = 0;
  private readonly random = seededRandom(SEED);

  async start(): Promise<void> {
    this.server.register(this.service);
    this.port = (await this.server.listen(0, '127.0.0.1')).port;
    for (let k = 0; k < CLIENTS; k++) this.clients.push(this.addClient());
  }

  async run(): Promise<void> {
    for (let round = 0; round < ROUNDS; round++) {
      const calls: Promise<void>[] = [];
      for (let n = 0; n < CALLS_PER_ROUND; n++) calls.push(this.oneCall(this.clients[n % CLIENTS].proxy, round * CALLS_PER_ROUND + n));
      if (round % 5 === 2) this.cutConnection();
      if (round % 15 === 7) this.replaceClient();
      assert.equal(await within(Promise.all(calls), 15_000), true, `round ${round}: some call never settled`);
    }
  }

  /** Every client ever made has nothing pending. */
  assertNothingPending(): void {
    const pending = this.everyClient.map((c) => c.client.pendingCount);
    assert.deepEqual(
      pending,
      pending.map(() => 0),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.everyClient.map((c) => c.client.close()));
    await this.server.close({ graceMs: 0 });
  }

  count(pattern: RegExp): number {
    let n = 0;
    for (const [k, v] of this.tally) if (pattern.test(k)) n += v;
    return n;
  }

  private addClient(): TrackedClient {
    const tracked = newClient(this.port);
    this.everyClient.push(tracked);
    return tracked;
  }

  /** Cuts a client's connection while its calls are in flight (both ends see the loss). */
  private cutConnection(): void {
    const victim = this.clients[Math.floor(this.random() * CLIENTS)];
    setTimeout(() => {
      victim.socket?.destroy();
      this.disconnects++;
    }, this.random() * 8);
  }

  /** Closes a client mid-flight and carries on with a new one. */
  private replaceClient(): void {
    const k = Math.floor(this.random() * CLIENTS);
    const old = this.clients[k];
    setTimeout(() => void old.client.close(), this.random() * 8);
    this.clients[k] = this.addClient();
    this.replaced++;
  }

  private async oneCall(p: ServiceProxy<LeakService>, i: number): Promise<void> {
    const [kind, call] = this.pick(p, i);
    let outcome: string;
    try {
      const value = await call;
      outcome = value === (kind === 'short' ? 'waited' : i) ? 'value' : `wrong value ${String(value)}`;
    } catch (err) {
      if (!RpcError.is(err)) throw err;
      outcome = err.timeout ? `${err.code}/${err.timeout}` : err.code;
    }
    const allowed = [EXPECTED[kind], RpcCode.UNAVAILABLE, RpcCode.CANCELLED];
    assert.ok(allowed.includes(outcome), `call ${i} (${kind}) ended as ${outcome}`);
    const key = `${kind} -> ${outcome}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
  }

  private pick(p: ServiceProxy<LeakService>, i: number): [Kind, Promise<unknown>] {
    const r = this.random();
    if (r < 0.25) return ['ok', p.ok(i)];
    if (r < 0.4) {
      // A signal that is never aborted: its listener must still be removed when the call ends.
      return ['later', withOptions(p, { signal: this.signal().signal }).later(i)];
    }
    if (r < 0.5) return ['short', p.wait(Math.floor(this.random() * 3))];
    if (r < 0.65) return ['timeout', withOptions(p, { timeoutMs: 1 + Math.floor(this.random() * 15) }).wait(3_600_000)];
    if (r < 0.85) {
      const ac = this.signal();
      const call = withOptions(p, { signal: ac.signal }).wait(3_600_000);
      const when = this.random();
      if (when < 0.2) ac.abort();
      else if (when < 0.4) queueMicrotask(() => ac.abort());
      else setTimeout(() => ac.abort(), this.random() * 10);
      return ['cancel', call];
    }
    return ['capped', p.capped()];
  }

  private signal(): AbortController {
    const ac = new AbortController();
    this.signals.push(ac.signal);
    return ac;
  }
}

test(`no pending entry, timer, listener or running handler is left after ${ROUNDS * CALLS_PER_ROUND} mixed calls (seed ${SEED})`, async (t) => {
  const baseTimeouts = activeResources('Timeout');
  const baseImmediates = activeResources('Immediate');
  const baseSockets = activeResources('TCPSocketWrap');
  const census = timerCensus();
  const unhandled = watchUnhandledRejections();
  const w = new Workload();
  const { service, server } = w;
  try {
    try {
      await w.start();
      await w.run();

      // Every kind ran and mostly ended the way it is meant to; connection loss happened too.
      for (const kind of Object.keys(EXPECTED) as Kind[]) {
        const intended = w.tally.get(`${kind} -> ${EXPECTED[kind]}`) ?? 0;
        const total = w.count(new RegExp(`^${kind} -> `));
        assert.ok(
          total > 1000 && intended > total / 2,
          `${kind}: ${intended} of ${total} ended as ${EXPECTED[kind]}: ${JSON.stringify([...w.tally])}`,
        );
      }
      assert.ok(w.count(/ -> UNAVAILABLE$/) > 0, 'some calls lost their connection');
      assert.ok(w.disconnects > 0 && w.replaced > 0);

      // Nothing pending on any client, nothing in flight on the server, no handler still running.
      w.assertNothingPending();
      await until(() => server.inFlight === 0, 5_000, `server.inFlight to reach 0 (is ${server.inFlight})`);
      await until(() => service.running === 0, 5_000, `running handlers to reach 0 (is ${service.running})`);
      // The waits of 'timeout', 'cancel' and 'capped' calls last an hour: only their aborted signals ended them.
      assert.ok(service.endedByAbort > w.count(/^(timeout|cancel|capped) /) / 2, `only ${service.endedByAbort} handlers were aborted`);

      // No timer left: neither in the census (which sees unref'd timers) nor among ref'd ones.
      await sleep(50);
      await nextTurn();
      // The census is not blind: every call that was sent armed its one deadline timer through it.
      assert.ok(census.created > (ROUNDS * CALLS_PER_ROUND) / 2, `the census saw only ${census.created} timers`);
      assert.deepEqual(census.live(), [], 'timers still armed');
      assert.equal(activeResources('Timeout'), baseTimeouts);
      assert.equal(activeResources('Immediate'), baseImmediates);

      // No abort listener left on any caller's signal, aborted or not.
      const withListeners = w.signals.filter((s) => getEventListeners(s, 'abort').length > 0).length;
      assert.equal(withListeners, 0, `${withListeners} of ${w.signals.length} signals still have abort listeners`);
      assert.deepEqual(unhandled.stop(), []);
    } finally {
      unhandled.stop();
      await w.close();
    }
    // Shutdown leaves nothing behind either: every socket closed, no timer of the library still armed.
    assert.equal(server.connectionCount, 0);
    await until(() => activeResources('TCPSocketWrap') <= baseSockets, 5_000, 'every socket to close');
    await sleep(20);
    assert.deepEqual(census.live(), [], 'timers still armed after close');
  } finally {
    census.uninstall();
  }
  w.clients.length = 0;
  await t.test('garbage collection reclaims closed clients and server-side call contexts', (st) => gcCheck(st, w));
});

async function gcCheck(st: { skip(msg: string): void }, w: Workload): Promise<void> {
  let gc: (() => void) | undefined;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  } catch {
    gc = undefined;
  }
  if (typeof gc !== 'function') return st.skip('gc() is not available in this runtime');
  const clientCount = w.everyClient.length;
  const clients = watchCollection(w.everyClient.splice(0).map((c) => c.client)); // also drops our references
  const { service } = w;
  const done = (): boolean => clients.collected === clientCount && service.contextsCollected === service.contextsSampled;
  for (let i = 0; i < 20 && !done(); i++) {
    await nextTurn();
    gc();
    await sleep(10); // finalization callbacks run as tasks after the collection
  }
  assert.equal(clients.collected, clientCount, 'closed clients are still reachable');
  assert.ok(service.contextsSampled > 0);
  assert.equal(service.contextsCollected, service.contextsSampled, 'call contexts are still reachable');
}

/**
 * Counts how many of `targets` have been collected, without deref() (which would keep them alive for the
 * current job). Keep the returned object: a collected registry runs no callbacks.
 */
function watchCollection(targets: object[]): { readonly registry: FinalizationRegistry<void>; collected: number } {
  const watch = { registry: new FinalizationRegistry<void>(() => watch.collected++), collected: 0 };
  for (const t of targets) watch.registry.register(t, undefined);
  targets.length = 0;
  return watch;
}
