import 'reflect-metadata';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCalculatorClient } from '../../samples/calculator/client';
import { startCalculatorServer } from '../../samples/calculator/server';

test('the calculator sample: success, validation details, domain error, cancel and deadline', async () => {
  const { server, service, port } = await startCalculatorServer(0);
  try {
    const lines = await runCalculatorClient(port, () => undefined);
    assert.deepEqual(lines, [
      'add(2, 3) = 5',
      'compute(6 mul 7) = 42 (answer)',
      'compute(bad input) -> INVALID_ARGUMENT: args[0].op isIn, args[0].a isNumber',
      'compute(1 div 0) -> INVALID_ARGUMENT: division by zero',
      'slowSum cancelled after 100 ms -> CANCELLED',
      'slowSum with a 50 ms deadline -> DEADLINE_EXCEEDED (call timeout)',
    ]);
    // Both slow sums were stopped on the server by their signal, not left running.
    for (let i = 0; i < 100 && service.cancelledSums < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(service.cancelledSums, 2);
  } finally {
    await server.close({ graceMs: 100 });
  }
});

test('npm run demo:calculator: server and client in two processes, exiting cleanly', async () => {
  const child = fork(join(__dirname, '../../samples/calculator/demo.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, out);
  assert.match(out, /add\(2, 3\) = 5/);
  assert.match(out, /demo finished/);
});
