import 'reflect-metadata';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, Method, RpcCode, RpcError, Service, type CallContext } from '../../src/index';
import { startServer } from '../helpers/servers';
import { until } from '../helpers/wait';

// samples/python/client.py speaks server streams (PROTOCOL.md 3.5 and 6.7) with Python's standard library only.
const dir = join(__dirname, '../../../samples/python');
const python = ['python3', 'python'].find((p) => {
  try {
    return execFileSync(p, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).startsWith('Python 3');
  } catch {
    return false;
  }
});
const skip = !python ? 'python3 not found on PATH' : !existsSync(join(dir, 'client.py')) ? 'client.py not found' : false;

@Service('Feed')
class Feed {
  finallyRan = 0;
  @Method() async *count(n: number): AsyncGenerator<{ i: number }> {
    for (let i = 0; i < n; i++) yield { i };
  }
  @Method() async *failAfter(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
    throw new RpcError(RpcCode.FAILED_PRECONDITION, `stopped after ${n}`);
  }
  @Method() async *endless(@Ctx() ctx: CallContext): AsyncGenerator<number> {
    try {
      for (let i = 0; !ctx.signal.aborted; i++) yield i;
    } finally {
      this.finallyRan++;
    }
  }
}

const SCRIPT = `
import sys
sys.path.insert(0, sys.argv[1])
from client import MyRpcClient, RpcError
c = MyRpcClient().connect(port=int(sys.argv[2]))
print("count", [x["i"] for x in c.stream("Feed", "count", [200])])
got = []
try:
    for x in c.stream("Feed", "failAfter", [2]):
        got.append(x)
except RpcError as e:
    print("failAfter", got, e.code)
for n, x in enumerate(c.stream("Feed", "endless", [])):
    if n == 4:
        break
print("endless broke at", x)
print("again", [x["i"] for x in c.stream("Feed", "count", [3])])
c.close()
`;

test(
  'the Python client consumes a server stream: all items, an error after items, an early break that cancels',
  { skip, timeout: 60_000 },
  async () => {
    const feed = new Feed();
    const s = await startServer([feed]);
    try {
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          python as string,
          ['-c', SCRIPT, dir, String(s.port)],
          { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' },
          (_e, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
      const report = `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      assert.equal(run.code, 0, report);
      assert.deepEqual(
        run.stdout.trimEnd().split('\n'),
        [
          `count [${Array.from({ length: 200 }, (_, i) => i).join(', ')}]`,
          'failAfter [0, 1] FAILED_PRECONDITION',
          'endless broke at 4',
          'again [0, 1, 2]',
        ],
        report,
      );
      await until(() => feed.finallyRan === 1, 5000, 'the endless generator finally after the Python break');
    } finally {
      await s.stop();
    }
  },
);
