import 'reflect-metadata';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { Ctx, Method, RpcCode, RpcError, RpcServer, Service, type CallContext } from '../../src/index';
import { until } from '../helpers/wait';

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
      for (let i = 0; !ctx.signal.aborted; i++) {
        yield i;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      this.finallyRan++;
    }
  }
}

async function setup(t: TestContext): Promise<{ feed: Feed; httpPort: number }> {
  const feed = new Feed();
  const server = new RpcServer().register(feed);
  const { port: httpPort } = await server.listenHttp(0, '127.0.0.1');
  t.after(() => server.close({ graceMs: 100 }));
  return { feed, httpPort };
}

describe('server streams over HTTP as NDJSON', () => {
  test('curl POST /rpc/Feed/count gets one JSON line per item', async (t) => {
    const { httpPort } = await setup(t);
    const { stdout } = await promisify(execFile)(
      'curl',
      ['-sS', '-i', '-X', 'POST', '-H', 'content-type: application/json', '-d', '[3]', `http://127.0.0.1:${httpPort}/rpc/Feed/count`],
      { timeout: 10_000 },
    );
    assert.match(stdout, /^HTTP\/1\.1 200/);
    assert.match(stdout, /content-type: application\/x-ndjson/i);
    const body = stdout.slice(stdout.indexOf('\r\n\r\n') + 4);
    assert.equal(body, '{"i":0}\n{"i":1}\n{"i":2}\n');
  });

  test('an error after items ends the body with an error line', async (t) => {
    const { httpPort } = await setup(t);
    const { stdout } = await promisify(execFile)(
      'curl',
      ['-sS', '-X', 'POST', '-H', 'content-type: application/json', '-d', '[2]', `http://127.0.0.1:${httpPort}/rpc/Feed/failAfter`],
      { timeout: 10_000 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines.slice(0, 2), [0, 1]);
    assert.equal((lines[2] as { error: { code: string; message: string } }).error.code, 'FAILED_PRECONDITION');
    assert.match((lines[2] as { error: { message: string } }).error.message, /stopped after 2/);
  });

  test('bad arguments to a stream are a plain JSON error with its HTTP status, and the server goes on serving', async (t) => {
    const { httpPort } = await setup(t);
    const curl = (args: string): Promise<{ stdout: string }> =>
      promisify(execFile)(
        'curl',
        [
          '-sS',
          '-w',
          '\n%{http_code}',
          '-X',
          'POST',
          '-H',
          'content-type: application/json',
          '-d',
          args,
          `http://127.0.0.1:${httpPort}/rpc/Feed/count`,
        ],
        { timeout: 10_000 },
      );
    const bad = (await curl('["many"]')).stdout.split('\n');
    assert.equal(bad.at(-1), '400');
    assert.equal((JSON.parse(bad[0]) as { code: string }).code, 'INVALID_ARGUMENT');
    assert.deepEqual((await curl('[1]')).stdout.split('\n'), ['{"i":0}', '', '200']);
  });

  test('a client that disconnects mid-stream cancels the generator (its finally runs)', async (t) => {
    const { feed, httpPort } = await setup(t);
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: httpPort, method: 'POST', path: '/rpc/Feed/endless', headers: { 'content-type': 'application/json' } },
        (res) => {
          assert.equal(res.statusCode, 200);
          let lines = 0;
          res.on('data', (chunk: Buffer) => {
            lines += chunk.toString().split('\n').length - 1;
            if (lines >= 3) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
      req.end('[]');
    });
    await until(() => feed.finallyRan === 1, 5000, 'the generator finally after the disconnect');
  });
});
