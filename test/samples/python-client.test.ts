import 'reflect-metadata';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCalculatorServer } from '../../samples/calculator/server';

// samples/python/client.py speaks the wire protocol from docs/PROTOCOL.md with Python's standard library only.
const script = join(__dirname, '../../../samples/python/client.py');
const python = ['python3', 'python'].find((p) => {
  try {
    return execFileSync(p, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).startsWith('Python 3');
  } catch {
    return false;
  }
});
const skip = !python ? 'python3 not found on PATH' : !existsSync(script) ? `${script} not found` : false;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the script asynchronously: the server lives in this process, so the event loop must keep turning. */
function runPython(args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      python as string,
      [script, ...args],
      { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
    );
  });
}

test(
  'a Python client written from docs/PROTOCOL.md alone: call, validation details, CANCEL, reuse',
  { skip, timeout: 60_000 },
  async () => {
    const { server, service, port } = await startCalculatorServer(0);
    try {
      const run = await runPython(['--host', '127.0.0.1', '--port', String(port)], 30_000);
      const report = `exit ${run.code} signal ${run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      assert.equal(run.code, 0, report);
      assert.deepEqual(
        run.stdout.trimEnd().split('\n'),
        [
          'add(2, 3) = 5',
          'compute(bad input) -> INVALID_ARGUMENT: args[0].op isIn, args[0].a isNumber',
          'slowSum cancelled after 100 ms -> CANCELLED',
          'add(2, 3) = 5 (after the cancel)',
        ],
        report,
      );
      // The CANCEL frame reached the server and aborted the slowSum handler (it would otherwise run ~10 s).
      for (let i = 0; i < 100 && service.cancelledSums < 1; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(service.cancelledSums, 1);
    } finally {
      await server.close({ graceMs: 100 });
    }
  },
);
