import 'reflect-metadata';
import { rejectOnAbort } from '../helpers/wait';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Ctx,
  FrameKind,
  Method,
  RpcClient,
  RpcCode,
  type RpcError,
  Service,
  withOptions,
  type CallContext,
  type ServiceProxy,
} from '../../src/index';
import { startServer, type Started } from '../helpers/servers';
import { startFakeServer, type Frame } from './fake-server';
import { deferred, rejection, settledBeforeIo, until, watchUnhandledRejections, type Deferred } from '../helpers/wait';

/** Handlers that run until their signal aborts, recording why; `entered` tells the test a call has started. */
@Service('Worker')
class Worker {
  readonly aborts: RpcError[] = [];
  entered: Deferred<CallContext> = deferred<CallContext>();
  calls = 0;

  @Method() hang(@Ctx() ctx: CallContext): Promise<never> {
    this.calls++;
    return new Promise((_, reject) => {
      rejectOnAbort(ctx, this.aborts, reject);
      this.entered.resolve(ctx);
    });
  }

  @Method() deadline(@Ctx() ctx: CallContext): number {
    this.calls++;
    return ctx.deadline;
  }

  @Method() echo(text: string): string {
    this.calls++;
    return text;
  }
}

/** Calls Worker on the same server, passing its own deadline and signal on, as handlers should. */
@Service('Relay')
class Relay {
  worker: ServiceProxy<Worker> | undefined;

  @Method() async deadlines(@Ctx() ctx: CallContext): Promise<{ outer: number; inner: number }> {
    const inner = await withOptions(this.inner(), { deadline: ctx.deadline, signal: ctx.signal }).deadline();
    return { outer: ctx.deadline, inner };
  }

  @Method() relayHang(@Ctx() ctx: CallContext): Promise<never> {
    return withOptions(this.inner(), { deadline: ctx.deadline, signal: ctx.signal }).hang();
  }

  private inner(): ServiceProxy<Worker> {
    if (!this.worker) throw new Error('Relay.worker is not set');
    return this.worker;
  }
}

describe('cancellation with an AbortSignal', () => {
  let s: Started;
  let worker: Worker;
  before(async () => {
    worker = new Worker();
    s = await startServer([worker]);
  });
  after(() => s.stop());

  test("aborting mid-call rejects at once with CANCELLED, and the handler's signal aborts", async () => {
    const client = s.client();
    worker.entered = deferred();
    const aborts = worker.aborts.length;
    const ac = new AbortController();
    const call = withOptions(client.proxy(Worker), { signal: ac.signal }).hang();
    await worker.entered.promise; // the handler is running on the server and will never answer by itself
    ac.abort();
    assert.equal(await settledBeforeIo(call), true, 'the call settled before any answer could be read');
    const err = await rejection(call);
    assert.equal(err.code, RpcCode.CANCELLED);
    assert.equal(err.retryable, false);
    assert.equal(client.pendingCount, 0);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    // The CANCEL frame reached the server: the handler's own signal aborted.
    await until(() => worker.aborts.length > aborts, 5000, 'the handler to be aborted');
    assert.equal(worker.aborts[aborts].code, RpcCode.CANCELLED);
    assert.equal(worker.aborts[aborts].message, 'cancelled by the client');
    await until(() => s.server.inFlight === 0, 5000, 'the server to forget the call');
  });

  test('the abort reason is kept as the cause and named in the message', async () => {
    const ac = new AbortController();
    worker.entered = deferred();
    const call = withOptions(s.client().proxy(Worker), { signal: ac.signal }).hang();
    await worker.entered.promise;
    const reason = new Error('user left the page');
    ac.abort(reason);
    const err = await rejection(call);
    assert.equal(err.code, RpcCode.CANCELLED);
    assert.match(err.message, /user left the page/);
    assert.equal(err.cause, reason);
  });

  test('a signal aborted before the call: CANCELLED, nothing sent, not even a connection opened', async () => {
    const client = s.client();
    let connects = 0;
    client.on('connect', () => connects++);
    const calls = worker.calls;
    const err = await rejection(withOptions(client.proxy(Worker), { signal: AbortSignal.abort() }).echo('never'));
    assert.equal(err.code, RpcCode.CANCELLED);
    assert.equal(connects, 0);
    await client.connect();
    const err2 = await rejection(withOptions(client.proxy(Worker), { signal: AbortSignal.abort() }).echo('never'));
    assert.equal(err2.code, RpcCode.CANCELLED);
    assert.equal(await client.proxy(Worker).echo('after'), 'after');
    assert.equal(worker.calls, calls + 1, 'only the last call reached the server');
  });

  test('a signal that never aborts leaves no listener behind after the call', async () => {
    const ac = new AbortController();
    const p = withOptions(s.client().proxy(Worker), { signal: ac.signal });
    assert.equal(await p.echo('a'), 'a');
    await rejection(withOptions(p, { timeoutMs: 50 }).hang());
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  test('an abort that lands while the connection opens still cancels at once (regression: missed abort)', async () => {
    // The window between "connection ready" and "request sent" spans a few microtask hops; sweep them.
    for (let hops = 0; hops < 12; hops++) {
      const client = s.client();
      const ac = new AbortController();
      client.once('connect', () => {
        let p = Promise.resolve();
        for (let i = 0; i < hops; i++) p = p.then(() => undefined);
        void p.then(() => ac.abort());
      });
      const err = await rejection(withOptions(client.proxy(Worker), { signal: ac.signal, timeoutMs: 3000 }).hang());
      assert.equal(err.code, RpcCode.CANCELLED, `abort after ${hops} microtask hops gave ${err.code}`);
      assert.equal(client.pendingCount, 0);
      await client.close();
    }
  });
});

describe('a late answer to a cancelled call', () => {
  test('is dropped: no unhandled rejection, nothing pending, and the connection keeps serving', async () => {
    const fake = await startFakeServer({
      onFrame(peer, frame) {
        // Answer a cancelled request anyway, twice, as a slow server might; answer "echo" at once.
        if (frame.kind === FrameKind.CANCEL) {
          peer.send(FrameKind.RESPONSE, frame.id, 'too late');
          peer.send(FrameKind.ERROR, frame.id, { code: 'INTERNAL', message: 'also too late' });
        } else if (frame.kind === FrameKind.REQUEST && (frame.value as unknown[])[1] === 'echo') {
          peer.send(FrameKind.RESPONSE, frame.id, (frame.value as [string, string, string[]])[2][0]);
        }
      },
    });
    const unhandled = watchUnhandledRejections();
    const client = new RpcClient({ port: fake.port });
    let connects = 0;
    client.on('connect', () => connects++);
    try {
      const ac = new AbortController();
      const call = client.call('Worker', 'hang', [], { signal: ac.signal });
      const peer = await fake.peer(0);
      const request = await peer.waitFrame((f) => f.kind === FrameKind.REQUEST);
      ac.abort();
      assert.equal((await rejection(call)).code, RpcCode.CANCELLED);
      const cancel: Frame = await peer.waitFrame((f) => f.kind === FrameKind.CANCEL);
      assert.equal(cancel.id, request.id, 'the CANCEL names the cancelled request');
      assert.equal(await client.call('Worker', 'echo', ['still here']), 'still here');
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled.stop(), []);
      assert.equal(client.pendingCount, 0);
      assert.equal(connects, 1, 'the late answers did not break the connection');
    } finally {
      unhandled.stop();
      await client.close();
      await fake.close();
    }
  });
});

describe('deadline and cancel propagation through a handler that calls another service', () => {
  let s: Started;
  let worker: Worker;
  before(async () => {
    worker = new Worker();
    const relay = new Relay();
    s = await startServer([worker, relay]);
    relay.worker = s.client().proxy(Worker);
  });
  after(() => s.stop());

  test('the inner call gets the remaining deadline', async () => {
    const deadline = Date.now() + 8_000;
    const seen = await withOptions(s.client().proxy(Relay), { deadline }).deadlines();
    assert.ok(seen.outer >= deadline - 2 && seen.outer - deadline < 1000, `outer ${seen.outer} vs ${deadline}`);
    assert.ok(seen.inner >= seen.outer - 2 && seen.inner - seen.outer < 1000, `inner ${seen.inner} vs outer ${seen.outer}`);
  });

  test('cancelling the outer call cancels the inner handler', async () => {
    worker.entered = deferred();
    const aborts = worker.aborts.length;
    const ac = new AbortController();
    const call = withOptions(s.client().proxy(Relay), { signal: ac.signal }).relayHang();
    await worker.entered.promise;
    ac.abort();
    assert.equal((await rejection(call)).code, RpcCode.CANCELLED);
    await until(() => worker.aborts.length > aborts, 5000, 'the inner handler to be aborted');
    assert.equal(worker.aborts[aborts].message, 'cancelled by the client');
    await until(() => s.server.inFlight === 0, 5000, 'both calls to end on the server');
  });

  test('the outer deadline bounds the inner call', async () => {
    worker.entered = deferred();
    const call = withOptions(s.client().proxy(Relay), { timeoutMs: 200 }).relayHang();
    const ctx = await worker.entered.promise;
    const err = await rejection(call);
    assert.equal(err.code, RpcCode.DEADLINE_EXCEEDED);
    assert.ok(ctx.deadline - Date.now() < 1000, 'the inner handler saw the short outer deadline');
    await until(() => ctx.signal.aborted, 5000, 'the inner handler to be aborted');
    await until(() => s.server.inFlight === 0, 5000, 'both calls to end on the server');
  });
});
