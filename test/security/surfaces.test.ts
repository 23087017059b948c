import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerAuth, Method, RpcServer, Service, type Logger } from '../../src/index';

@Service('Ping')
class Ping {
  @Method()
  ping(): string {
    return 'pong';
  }
}

const PAGES = ['/debug/myrpc', '/debug/myrpc/stats.json', '/metrics'];

function recordingLogger(): Logger & { warnings: { obj: object; msg?: string }[] } {
  const warnings: { obj: object; msg?: string }[] = [];
  const noop = (): void => undefined;
  return { warnings, debug: noop, info: noop, error: noop, warn: (obj, msg) => void warnings.push({ obj, msg }) };
}

test('the debug page, stats JSON and /metrics go through the global auth: 401 without a token, 200 with one', async (t) => {
  const server = new RpcServer({ interceptors: [bearerAuth({ verify: (token) => token === 'scrape' })] }).register(new Ping());
  const { port } = await server.listenHttp(0);
  t.after(() => server.close({ graceMs: 50 }));
  for (const page of PAGES) {
    const none = await fetch(`http://127.0.0.1:${port}${page}`);
    assert.equal(none.status, 401, page);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.doesNotMatch(await none.text(), /myrpc_|Ping/, `${page} leaks nothing without a token`);
    const wrong = await fetch(`http://127.0.0.1:${port}${page}`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401, page);
    const ok = await fetch(`http://127.0.0.1:${port}${page}`, { headers: { authorization: 'Bearer scrape' } });
    assert.equal(ok.status, 200, page);
    await ok.text();
  }
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200, '/healthz stays open for load balancers');
});

test('interceptors see the pages as MyRpcHttp.debugPage and MyRpcHttp.metrics with meta.surface', async (t) => {
  const seen: string[] = [];
  const server = new RpcServer({
    interceptors: [
      (next) => async (call) => {
        seen.push(`${call.service}.${call.method}:${String(call.meta.surface)}:${call.transport}`);
        return next(call);
      },
    ],
  });
  const { port } = await server.listenHttp(0);
  t.after(() => server.close({ graceMs: 50 }));
  for (const page of PAGES) await (await fetch(`http://127.0.0.1:${port}${page}`)).text();
  assert.deepEqual(seen, ['MyRpcHttp.debugPage:true:http', 'MyRpcHttp.debugPage:true:http', 'MyRpcHttp.metrics:true:http']);
});

test('debugPage: false and metrics: false turn the pages off (404) while RPC over HTTP goes on', async (t) => {
  const server = new RpcServer({ debugPage: false, metrics: false }).register(new Ping());
  const { port } = await server.listenHttp(0);
  t.after(() => server.close({ graceMs: 50 }));
  for (const page of PAGES) {
    const res = await fetch(`http://127.0.0.1:${port}${page}`);
    assert.equal(res.status, 404, page);
    assert.match(await res.text(), /turned off/);
  }
  const rpc = await fetch(`http://127.0.0.1:${port}/rpc/Ping/ping`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '[]',
  });
  assert.equal(await rpc.json(), 'pong');
});

test('a startup warning names the unprotected surfaces served on a non-loopback address', async (t) => {
  const logger = recordingLogger();
  const server = new RpcServer({ logger });
  t.after(() => server.close({ graceMs: 50 }));
  await server.listen(0, '0.0.0.0');
  await server.listenHttp(0, '0.0.0.0');
  const texts = logger.warnings.map((w) => w.msg ?? '');
  assert.equal(texts.length, 2, texts.join('\n'));
  assert.match(texts[0], /^describe served on 0\.0\.0\.0 without protection/);
  assert.match(texts[1], /^debugPage, metrics served on 0\.0\.0\.0 without protection/);
});

test('no warning on loopback, with a global interceptor, or with the surfaces turned off', async (t) => {
  const quiet = [
    { options: {}, host: '127.0.0.1' },
    { options: { interceptors: [bearerAuth({ verify: () => true })] }, host: '0.0.0.0' },
    { options: { describe: false, debugPage: false, metrics: false }, host: '0.0.0.0' },
  ];
  for (const { options, host } of quiet) {
    const logger = recordingLogger();
    const server = new RpcServer({ ...options, logger });
    t.after(() => server.close({ graceMs: 50 }));
    await server.listen(0, host);
    await server.listenHttp(0, host);
    assert.deepEqual(logger.warnings, [], `${host} ${JSON.stringify(Object.keys(options))}`);
  }
});
