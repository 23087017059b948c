import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Method, Service } from '../../src/index';
import { startServer } from '../helpers/servers';

const MAIN = join(__dirname, '../../src/cli/main.js');

@Service('Ticks')
class Ticks {
  @Method() async *watch(key: string): AsyncGenerator<string> {
    yield key;
  }

  @Method({ stream: 'server', params: [Number] }) count(n: number): AsyncIterable<number> {
    return (async function* () {
      for (let i = 0; i < n; i++) yield i;
    })();
  }

  @Method() now(): number {
    return Date.now();
  }
}

function describeOutput(address: string, ...extra: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, 'describe', address, 'Ticks', ...extra], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`myrpc describe failed: ${stderr}`)) : resolve(stdout),
    );
  });
}

test('myrpc describe marks server streams, and --json gives every method its kind', async () => {
  const s = await startServer([new Ticks()]);
  try {
    const address = `127.0.0.1:${s.port}`;
    assert.equal(
      await describeOutput(address),
      'service Ticks\n  watch(string)  [server stream]\n  count(number)  [server stream]\n  now()\n',
    );
    const json = JSON.parse(await describeOutput(address, '--json')) as { methods: { name: string; kind: string }[] };
    assert.deepEqual(
      json.methods.map((m) => [m.name, m.kind]),
      [
        ['watch', 'server'],
        ['count', 'server'],
        ['now', 'unary'],
      ],
    );
  } finally {
    await s.stop();
  }
});
