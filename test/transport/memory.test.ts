import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Ctx, Method, memoryConnector, memoryPair, RpcClient, RpcCode, RpcServer, Service, type CallContext } from '../../src/index';
import { testPki } from '../helpers/certs';
import { rejection, until } from '../helpers/wait';

@Service('Mem')
class Mem {
  @Method()
  echo(value: string, @Ctx() ctx: CallContext): unknown {
    return { value, peer: ctx.peer, identity: ctx.peerIdentity?.subject.CN ?? null };
  }

  @Method()
  wait(@Ctx() ctx: CallContext): Promise<never> {
    return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
  }
}

test('memoryPair carries bytes both ways in order; ending one side ends the other, as a socket does', async () => {
  const [a, b] = memoryPair();
  const got: string[] = [];
  const back: string[] = [];
  b.on('data', (c: Buffer) => got.push(c.toString()));
  a.on('data', (c: Buffer) => back.push(c.toString()));
  const closed = Promise.all([new Promise((resolve) => a.on('close', resolve)), new Promise((resolve) => b.on('close', resolve))]);
  a.write('one ');
  a.write('two');
  b.write('back');
  a.end();
  await closed;
  assert.equal(got.join(''), 'one two');
  assert.equal(back.join(''), 'back');
});

test('destroying one end of a memoryPair closes the other', async () => {
  const [a, b] = memoryPair();
  const closed = new Promise((resolve) => b.on('close', resolve));
  a.destroy();
  await closed;
  assert.equal(b.destroyed, true);
});

test('a client over memoryConnector calls a server with no socket at all, through both codecs', async (t) => {
  const server = new RpcServer().register(new Mem());
  t.after(() => server.close({ graceMs: 50 }));
  for (const codec of ['json', 'msgpack']) {
    const client = new RpcClient({ port: 0, connector: memoryConnector(server), codec });
    t.after(() => client.close());
    assert.deepEqual(await client.call('Mem', 'echo', ['hi']), { value: 'hi', peer: 'memory', identity: null });
  }
  assert.equal(server.address(), undefined, 'the server never listened');
});

test('over memory streams, validation errors and shutdown behave as over TCP', async (t) => {
  const server = new RpcServer().register(new Mem());
  const client = new RpcClient({ port: 0, connector: memoryConnector(server) });
  t.after(() => client.close());
  assert.equal((await rejection(client.call('Mem', 'echo', [42]))).code, RpcCode.INVALID_ARGUMENT);
  const waiting = rejection(client.call('Mem', 'wait', []));
  await until(() => server.inFlight === 1, 2000, 'the call to reach the handler');
  await server.close({ graceMs: 50 });
  assert.equal((await waiting).code, RpcCode.UNAVAILABLE);
});

test('handleSocket serves sockets from a TLS listener of your own, with the client certificate identity', async (t) => {
  const pki = testPki();
  const server = new RpcServer().register(new Mem());
  const own = createTlsServer({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true }, (socket) =>
    server.handleSocket(socket),
  );
  await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await server.close({ graceMs: 50 });
    await new Promise((resolve) => own.close(resolve));
  });
  const client = new RpcClient({ port: (own.address() as AddressInfo).port, tls: { ca: pki.ca, ...pki.client } });
  t.after(() => client.close());
  assert.equal(((await client.call('Mem', 'echo', ['x'])) as { identity: string }).identity, 'billing');
});

test('createListener makes the listener listen() uses', async (t) => {
  let made = 0;
  const server = new RpcServer({ createListener: (onSocket) => (made++, createNetServer(onSocket)) }).register(new Mem());
  const { port } = await server.listen(0, '127.0.0.1');
  t.after(() => server.close({ graceMs: 50 }));
  const client = new RpcClient({ port });
  t.after(() => client.close());
  assert.equal(((await client.call('Mem', 'echo', ['x'])) as { value: string }).value, 'x');
  assert.equal(made, 1);
});
