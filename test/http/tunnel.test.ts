import 'reflect-metadata';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { CalculatorContract } from '../../samples/calculator/contract';
import { startCalculatorServer } from '../../samples/calculator/server';
import { RpcClient, RpcCode, TUNNEL_PATH, withOptions, type RpcClientOptions } from '../../src/index';
import { rejection, until } from '../helpers/wait';
import { closedPort } from '../helpers/servers';

async function setup(t: TestContext) {
  const started = await startCalculatorServer(0);
  const { port: httpPort } = await started.server.listenHttp(0);
  t.after(() => started.server.close({ graceMs: 100 }));
  const client = (options: Partial<RpcClientOptions> = {}): RpcClient => {
    const c = new RpcClient({ port: httpPort, httpTunnel: true, defaultTimeoutMs: 10_000, ...options });
    c.on('error', () => undefined);
    t.after(() => c.close());
    return c;
  };
  return { ...started, httpPort, client };
}

/** Sends `head` on a raw socket and collects everything until the server closes (bounded). */
function rawExchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(head));
    const chunks: Buffer[] = [];
    const bound = setTimeout(() => socket.destroy(new Error('the server did not close within 5 s')), 5000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(bound);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(bound);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

test('httpTunnel: calls go through CONNECT /myrpc on the HTTP port and count as a MyRPC connection', async (t) => {
  const { client, server } = await setup(t);
  const calc = client().proxy(CalculatorContract);
  assert.equal(await calc.add(2, 3), 5);
  assert.deepEqual(await calc.compute({ op: 'mul', a: 6, b: 7, label: 'answer' }), { label: 'answer', value: 42 });
  assert.equal(server.connectionCount, 1, 'the tunnel is served like any TCP connection');
});

test('httpTunnel: a validation error comes back with its details, as over TCP', async (t) => {
  const { client } = await setup(t);
  const err = await rejection(client().call('Calculator', 'compute', [{ op: 'pow', a: 'x', b: 2 }]));
  assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
  assert.deepEqual(
    err.details.map((d) => [d.path, d.constraint]),
    [
      ['args[0].op', 'isIn'],
      ['args[0].a', 'isNumber'],
    ],
  );
});

test('httpTunnel: cancelling a call reaches the handler through the tunnel; the tunnel serves on', async (t) => {
  const { client, service, server } = await setup(t);
  const calc = client().proxy(CalculatorContract);
  const controller = new AbortController();
  const slow = withOptions(calc, { signal: controller.signal }).slowSum(1000, 10);
  await until(() => server.inFlight === 1, 5000, 'slowSum to start on the server');
  controller.abort();
  const err = await rejection(slow);
  assert.equal(err.code, RpcCode.CANCELLED);
  await until(() => service.cancelledSums === 1, 5000, 'slowSum on the server to be stopped by its signal');
  assert.equal(await calc.add(1, 1), 2);
});

test('a CONNECT to any other path answers 404 and closes', async (t) => {
  const { httpPort, server } = await setup(t);
  const answer = await rawExchange(httpPort, 'CONNECT /other HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(answer, new RegExp(`CONNECT ${TUNNEL_PATH} opens a MyRPC tunnel`));
  assert.equal(server.connectionCount, 0);
});

test('httpTunnel against a port that refuses connections fails with UNAVAILABLE, not run', async () => {
  const port = await closedPort();
  const client = new RpcClient({ port, httpTunnel: true, defaultTimeoutMs: 5000 });
  client.on('error', () => undefined);
  try {
    const err = await rejection(client.call('Calculator', 'add', [2, 3]));
    assert.equal(err.code, RpcCode.UNAVAILABLE);
    assert.equal(err.mayHaveRun, false);
    assert.match(err.message, /ECONNREFUSED/);
  } finally {
    await client.close();
  }
});

test('httpTunnel against the binary TCP port (not HTTP) fails with UNAVAILABLE naming the refusal', async (t) => {
  const { port } = await setup(t);
  const client = new RpcClient({ port, httpTunnel: true, defaultTimeoutMs: 5000 });
  client.on('error', () => undefined);
  t.after(() => client.close());
  const err = await rejection(client.call('Calculator', 'add', [2, 3]));
  assert.equal(err.code, RpcCode.UNAVAILABLE);
  assert.equal(err.mayHaveRun, false);
  assert.match(err.message, /refused the HTTP tunnel: HTTP\/1\.1 400 Bad Request/);
});
