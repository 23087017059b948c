import 'reflect-metadata';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { CalculatorService } from '../../samples/calculator/calculator-service';
import {
  Ctx,
  HTTP_STATUS,
  Method,
  RpcClient,
  RpcCode,
  RpcError,
  RpcServer,
  Service,
  type CallContext,
  type RpcServerOptions,
} from '../../src/index';
import { until } from '../helpers/wait';

/** A handler that fails with whatever code it is given, one that reports its metadata, and two that misbehave. */
@Service('Probe')
class ProbeService {
  readonly signals: AbortSignal[] = [];

  @Method() fail(code: string): never {
    throw new RpcError(code as RpcCode, `failing with ${code}`);
  }

  @Method() metadata(@Ctx() ctx: CallContext): Readonly<Record<string, string>> {
    return ctx.metadata;
  }

  @Method() boom(): never {
    throw new Error('the database password is hunter2');
  }

  /** Never answers; rejects with the abort reason once its signal fires (or after 10 s, failing the test). */
  @Method() hang(@Ctx() ctx: CallContext): Promise<never> {
    this.signals.push(ctx.signal);
    return new Promise((_resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('hang was never aborted')), 10_000).unref();
      ctx.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        },
        { once: true },
      );
    });
  }
}

interface Setup {
  server: RpcServer;
  calc: CalculatorService;
  probe: ProbeService;
  tcpPort: number;
  httpPort: number;
  handlerErrors: { err: unknown; service: string; method: string }[];
}

const BODY_LIMIT = 4096;

async function setup(t: TestContext, options: RpcServerOptions = { httpMaxBodyBytes: BODY_LIMIT }): Promise<Setup> {
  const calc = new CalculatorService();
  const probe = new ProbeService();
  const server = new RpcServer(options).register(calc).register(probe);
  const handlerErrors: Setup['handlerErrors'] = [];
  server.on('handlerError', (err, service, method) => handlerErrors.push({ err, service, method }));
  const { port: tcpPort } = await server.listen(0);
  const { port: httpPort } = await server.listenHttp(0);
  t.after(() => server.close({ graceMs: 100 }));
  return { server, calc, probe, tcpPort, httpPort, handlerErrors };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

interface Ask {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request on a fresh connection (no agent, so nothing lingers after the test). */
function ask(port: number, path: string, { method = 'GET', headers = {}, body }: Ask = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `POST /rpc/<path>` with a JSON array of arguments. */
function rpc(port: number, path: string, args: unknown[] | string, headers: Record<string, string> = {}): Promise<Reply> {
  const body = typeof args === 'string' ? args : JSON.stringify(args);
  return ask(port, `/rpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

function callsOf(
  snapshot: { methods: { service: string; method: string; calls: number; errors: number; codes: Record<string, number> }[] },
  service: string,
  method: string,
) {
  const m = snapshot.methods.find((x) => x.service === service && x.method === method);
  assert.ok(m, `${service}.${method} is in the snapshot`);
  return m;
}

describe('POST /rpc/<Service>/<method>', () => {
  test('a call with primitive arguments answers 200 with the JSON result', async (t) => {
    const { httpPort } = await setup(t);
    const reply = await rpc(httpPort, 'Calculator/add', [2, 3]);
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    assert.equal(reply.text, '5');
  });

  test('a DTO argument is transformed and validated as over TCP: success', async (t) => {
    const { httpPort } = await setup(t);
    const reply = await rpc(httpPort, 'Calculator/compute', [{ op: 'mul', a: 6, b: 7, label: 'answer' }]);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { label: 'answer', value: 42 });
  });

  test('a DTO that breaks its class-validator rules answers 400 INVALID_ARGUMENT with one detail per rule', async (t) => {
    const { httpPort } = await setup(t);
    const reply = await rpc(httpPort, 'Calculator/compute', [{ op: 'pow', a: 'x', b: 2 }]);
    assert.equal(reply.status, 400);
    assert.equal(reply.json.code, 'INVALID_ARGUMENT');
    assert.match(reply.json.message, /invalid arguments for Calculator\.compute/);
    assert.deepEqual(
      reply.json.details.map((d: { path: string; constraint: string }) => [d.path, d.constraint]),
      [
        ['args[0].op', 'isIn'],
        ['args[0].a', 'isNumber'],
      ],
    );
    for (const d of reply.json.details) assert.equal(typeof d.message, 'string');
  });

  test('every RpcCode a handler throws comes back with the status HTTP_STATUS gives it, and the same code', async (t) => {
    const { httpPort } = await setup(t);
    assert.deepEqual(Object.keys(HTTP_STATUS).sort(), Object.values(RpcCode).sort(), 'the table covers every code');
    for (const code of Object.values(RpcCode)) {
      const reply = await rpc(httpPort, 'Probe/fail', [code]);
      assert.equal(reply.status, HTTP_STATUS[code], code);
      assert.ok(reply.status >= 400 && reply.status < 600, `${code} maps to an error status`);
      assert.deepEqual(reply.json, { code, message: `failing with ${code}` });
    }
  });

  test('the status table in docs/HTTP.md is HTTP_STATUS, row for row', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/HTTP.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### Status codes'), doc.indexOf('### With curl'));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3})\b/gm)].map(([, code, status]) => [code, Number(status)]);
    assert.deepEqual(rows, Object.entries(HTTP_STATUS));
  });

  test('an unknown service or method answers 501 UNIMPLEMENTED naming what is missing', async (t) => {
    const { httpPort } = await setup(t);
    const noService = await rpc(httpPort, 'Nope/add', [1, 2]);
    assert.equal(noService.status, 501);
    assert.deepEqual(noService.json, { code: 'UNIMPLEMENTED', message: "unknown service 'Nope'" });
    const noMethod = await rpc(httpPort, 'Calculator/pow', [1, 2]);
    assert.equal(noMethod.status, 501);
    assert.deepEqual(noMethod.json, { code: 'UNIMPLEMENTED', message: "unknown method 'pow' of service 'Calculator'" });
  });

  test('a path that is not /rpc/<Service>/<method> answers 400', async (t) => {
    const { httpPort } = await setup(t);
    for (const path of ['Calculator', 'Calculator/add/extra']) {
      const reply = await rpc(httpPort, path, [1, 2]);
      assert.equal(reply.status, 400, path);
      assert.equal(reply.json.code, 'INVALID_ARGUMENT');
    }
  });
});

describe('requests refused before any handler runs', () => {
  test('GET on /rpc answers an error with allow: POST', async (t) => {
    const { httpPort } = await setup(t);
    const reply = await ask(httpPort, '/rpc/Calculator/add');
    assert.equal(reply.status, HTTP_STATUS.UNIMPLEMENTED);
    assert.equal(reply.headers.allow, 'POST');
    assert.equal(reply.json.code, 'UNIMPLEMENTED');
  });

  test('a body that is not application/json, not JSON, or not an array answers 400 and runs nothing', async (t) => {
    const { httpPort, server } = await setup(t);
    const cases: [string, Ask][] = [
      ['text/plain', { headers: { 'content-type': 'text/plain' }, body: '[2,3]' }],
      ['no content type', { headers: {}, body: '[2,3]' }],
      ['malformed JSON', { headers: { 'content-type': 'application/json' }, body: '[2,' }],
      ['an object', { headers: { 'content-type': 'application/json' }, body: '{"a":2,"b":3}' }],
      ['a number', { headers: { 'content-type': 'application/json' }, body: '5' }],
    ];
    for (const [what, req] of cases) {
      const reply = await ask(httpPort, '/rpc/Calculator/add', { method: 'POST', ...req });
      assert.equal(reply.status, 400, what);
      assert.equal(reply.json.code, 'INVALID_ARGUMENT', what);
    }
    const stats = JSON.parse((await ask(httpPort, '/debug/myrpc/stats.json')).text);
    assert.equal(callsOf(stats, 'Calculator', 'add').calls, 0, 'no handler ran');
    assert.equal(server.inFlight, 0);
  });

  test('a content-length over httpMaxBodyBytes answers 413 RESOURCE_EXHAUSTED, and the server serves the next request', async (t) => {
    const { httpPort } = await setup(t);
    const body = `[${'1,'.repeat(BODY_LIMIT)}1]`;
    const reply = await ask(httpPort, '/rpc/Calculator/add', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(reply.status, 413);
    assert.equal(reply.json.code, 'RESOURCE_EXHAUSTED');
    assert.match(reply.json.message, new RegExp(`limit of ${BODY_LIMIT} bytes`));
    assert.equal(reply.headers.connection, 'close');
    assert.equal((await rpc(httpPort, 'Calculator/add', [2, 3])).text, '5');
  });

  test('a chunked body (no content-length) that grows over the limit answers 413 while the client is still sending', async (t) => {
    const { httpPort } = await setup(t);
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: httpPort,
        path: '/rpc/Calculator/add',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json' },
      });
      let answered = false;
      // Keep sending, never ending the body: only the limit can make the server answer.
      const pump = setInterval(() => req.write(' '.repeat(512)), 2);
      const bound = setTimeout(() => req.destroy(new Error('no answer within 10 s')), 10_000);
      const stop = (): void => {
        clearInterval(pump);
        clearTimeout(bound);
      };
      req.on('response', (res) => {
        answered = true;
        stop();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.destroy();
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) });
        });
      });
      req.on('error', (err) => {
        stop();
        if (!answered) reject(err); // after the answer, the server closing on our unfinished body is expected
      });
    });
    assert.equal(reply.status, 413);
    assert.equal(reply.json.code, 'RESOURCE_EXHAUSTED');
    assert.equal((await rpc(httpPort, 'Calculator/add', [2, 3])).text, '5', 'the server serves the next request');
  });

  test('x-myrpc-timeout-ms that is not a positive number answers 400', async (t) => {
    const { httpPort, calc } = await setup(t);
    for (const value of ['abc', '0', '-5', '']) {
      const reply = await rpc(httpPort, 'Calculator/slowSum', [3, 1], { 'x-myrpc-timeout-ms': value });
      assert.equal(reply.status, 400, `'${value}'`);
      assert.equal(reply.json.code, 'INVALID_ARGUMENT');
      assert.match(reply.json.message, /x-myrpc-timeout-ms/);
    }
    assert.equal(calc.cancelledSums, 0);
  });

  test('an unknown page answers 404 NOT_FOUND; /healthz answers ok', async (t) => {
    const { httpPort } = await setup(t);
    const missing = await ask(httpPort, '/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 'NOT_FOUND');
    const health = await ask(httpPort, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.text, 'ok\n');
  });
});

describe('calls over HTTP behave as over TCP', () => {
  test('x-myrpc-timeout-ms: 50 on a slow handler answers 504 DEADLINE_EXCEEDED (call) and aborts the handler', async (t) => {
    const { httpPort, probe } = await setup(t);
    const reply = await rpc(httpPort, 'Probe/hang', [], { 'x-myrpc-timeout-ms': '50' });
    assert.equal(reply.status, 504);
    assert.equal(reply.json.code, 'DEADLINE_EXCEEDED');
    assert.equal(reply.json.timeout, 'call');
    assert.equal(probe.signals.length, 1);
    assert.ok(probe.signals[0].aborted, 'the handler signal fired before the answer was sent');
    assert.equal((probe.signals[0].reason as RpcError).code, RpcCode.DEADLINE_EXCEEDED);
  });

  test('the calculator sample: slowSum with a 50 ms deadline is stopped by its signal', async (t) => {
    const { httpPort, calc } = await setup(t);
    const reply = await rpc(httpPort, 'Calculator/slowSum', [1000, 10], { 'x-myrpc-timeout-ms': '50' });
    assert.equal(reply.status, 504);
    assert.equal(reply.json.timeout, 'call');
    await until(() => calc.cancelledSums === 1, 5000, 'slowSum to see its signal');
  });

  test('x-myrpc-meta-<key> headers reach ctx.metadata (keys lower-cased by HTTP); other headers do not', async (t) => {
    const { httpPort } = await setup(t);
    const reply = await rpc(httpPort, 'Probe/metadata', [], {
      'x-myrpc-meta-trace-id': 'abc123',
      'X-MyRPC-Meta-Tenant': 'Acme',
      'x-other': 'no',
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { 'trace-id': 'abc123', tenant: 'Acme' });
  });

  test('a handler throwing a plain Error answers 500 INTERNAL without its message, and the server reports it', async (t) => {
    const { httpPort, handlerErrors } = await setup(t);
    const reply = await rpc(httpPort, 'Probe/boom', []);
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.json, { code: 'INTERNAL', message: 'internal error' });
    assert.doesNotMatch(reply.text, /hunter2|password|at /);
    assert.equal(handlerErrors.length, 1);
    assert.equal(handlerErrors[0].service, 'Probe');
    assert.equal(handlerErrors[0].method, 'boom');
    assert.match((handlerErrors[0].err as Error).message, /hunter2/);
  });

  test('the HTTP client disconnecting mid-call aborts the handler with CANCELLED', async (t) => {
    const { httpPort, probe, server } = await setup(t);
    const req = request({
      host: '127.0.0.1',
      port: httpPort,
      path: '/rpc/Probe/hang',
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => undefined); // we destroy it ourselves
    req.end('[]');
    await until(() => probe.signals.length === 1, 5000, 'the handler to start');
    assert.equal(server.inFlight, 1);
    req.destroy();
    await until(() => probe.signals[0].aborted, 5000, 'the handler signal to fire');
    assert.equal((probe.signals[0].reason as RpcError).code, RpcCode.CANCELLED);
    assert.equal(server.inFlight, 0);
  });

  test('the same server object serves TCP beside HTTP, and its stats count calls from both', async (t) => {
    const { httpPort, tcpPort } = await setup(t);
    const client = new RpcClient({ port: tcpPort });
    t.after(() => client.close());
    assert.equal(await client.call('Calculator', 'add', [2, 3]), 5);
    assert.equal((await rpc(httpPort, 'Calculator/add', [4, 5])).text, '9');
    assert.equal((await rpc(httpPort, 'Calculator/add', [1, 1])).text, '2');
    assert.equal(await client.call('Calculator', 'add', [10, 20]), 30);
    await rpc(httpPort, 'Probe/fail', ['NOT_FOUND']);
    await assert.rejects(client.call('Probe', 'fail', ['NOT_FOUND']), (e: unknown) => RpcError.is(e) && e.code === RpcCode.NOT_FOUND);
    const stats = JSON.parse((await ask(httpPort, '/debug/myrpc/stats.json')).text);
    assert.equal(callsOf(stats, 'Calculator', 'add').calls, 4);
    assert.equal(callsOf(stats, 'Calculator', 'add').errors, 0);
    assert.deepEqual(callsOf(stats, 'Probe', 'fail').codes, { NOT_FOUND: 2 });
    assert.equal(stats.server.connections, 1, 'one TCP connection; HTTP requests are not counted as connections');
  });

  test('the debug page is one HTML document that reads stats.json', async (t) => {
    const { httpPort } = await setup(t);
    const page = await ask(httpPort, '/debug/myrpc');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /^<!doctype html>/);
    assert.match(page.text, /stats\.json/);
  });
});
