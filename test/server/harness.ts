import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { RpcError, type RpcClient, type RpcServer, type RpcServerOptions } from '../../src/index';
import { startServer, type RawPeer } from '../helpers/servers';
import { Calculator, Faulty } from './fixtures';

/** Polls `done` every 10 ms; rejects after `timeoutMs`. */
export async function until(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const stopAt = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > stopAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Asserts that `p` rejects with an RpcError and returns it. */
export async function failure(p: Promise<unknown>): Promise<RpcError> {
  try {
    const value = await p;
    assert.fail(`expected an RpcError, the call resolved with ${JSON.stringify(value)}`);
  } catch (err) {
    if (!RpcError.is(err)) throw err;
    return err;
  }
}

export interface Harness {
  server: RpcServer;
  port: number;
  calc: Calculator;
  faulty: Faulty;
  clientErrors: { err: RpcError; peer: string }[];
  handlerErrors: { err: unknown; service: string; method: string }[];
  /** A new client (closed when the test ends). */
  client(options?: Parameters<Awaited<ReturnType<typeof startServer>>['client']>[0]): RpcClient;
  /** Destroys this raw socket when the test ends. */
  track(peer: RawPeer): void;
}

/** A real server on 127.0.0.1:0 with fresh Calculator and Faulty instances, torn down after the test. */
export async function setup(t: TestContext, options: RpcServerOptions = {}): Promise<Harness> {
  const calc = new Calculator();
  const faulty = new Faulty();
  const started = await startServer([calc, faulty], options);
  const raw: RawPeer[] = [];
  const h: Harness = {
    server: started.server,
    port: started.port,
    calc,
    faulty,
    clientErrors: [],
    handlerErrors: [],
    client: (opts) => started.client(opts),
    track: (peer) => raw.push(peer),
  };
  started.server.on('clientError', (err, peer) => h.clientErrors.push({ err, peer }));
  started.server.on('handlerError', (err, service, method) => h.handlerErrors.push({ err, service, method }));
  t.after(async () => {
    for (const peer of raw) peer.socket.destroy();
    calc.release();
    await started.stop();
  });
  return h;
}

/** A fresh client gets add(2, 3) === 5. */
export async function assertServes(h: Harness, client: RpcClient = h.client()): Promise<void> {
  assert.equal(await client.call('Calculator', 'add', [2, 3], { timeoutMs: 5000 }), 5);
}

/**
 * Runs `badInput` while another connection has a call in flight, then shows that call was not disturbed
 * (it is still pending, and finishes normally once released) and that a fresh client is served.
 */
export async function proveUndisturbed(h: Harness, badInput: () => Promise<void>): Promise<void> {
  const bystander = h.client();
  const inFlight = h.server.inFlight;
  let settled: string | undefined;
  const call = bystander.call('Calculator', 'held', [], { timeoutMs: 20_000 });
  call.then(
    () => (settled = 'resolved'),
    (err: RpcError) => (settled = `rejected: ${err.code} ${err.message}`),
  );
  await until(() => h.server.inFlight > inFlight, 'the bystander call to reach the server');
  await badInput();
  assert.equal(settled, undefined, 'the bystander call on another connection settled during the bad input');
  h.calc.release();
  assert.equal(await call, 'released');
  await assertServes(h);
}
