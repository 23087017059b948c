import { fork } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('npm run demo: registry, three servers, a client; one server stops, only its keys move, no call is lost', async () => {
  const child = fork(join(__dirname, '../../samples/demo/demo.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, out);
  assert.match(out, /discovered 3 endpoints/);
  assert.match(out, /keys that moved: [1-9]\d*, all of them kv1's: true/);
  const stayed = /keys of kv0 and kv2 still in place: (\d+) of (\d+)/.exec(out);
  assert.ok(stayed && stayed[1] === stayed[2], out);
  assert.match(out, /lost 0/);
  assert.match(out, /demo finished in/);
});
