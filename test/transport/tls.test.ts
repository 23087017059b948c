import 'reflect-metadata';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  ClusterClient,
  Ctx,
  Method,
  RegistryDiscovery,
  RegistryRegistrar,
  RegistryServer,
  RpcClient,
  RpcCode,
  RpcServer,
  Service,
  type CallContext,
  type RpcClientOptions,
  type RpcError,
  type RpcServerOptions,
} from '../../src/index';
import { testPki } from '../helpers/certs';
import { rejection, until } from '../helpers/wait';

@Service('Who')
class Who {
  @Method()
  whoAmI(@Ctx() ctx: CallContext): unknown {
    return { identity: ctx.peerIdentity ?? null, peer: ctx.peer };
  }
}

const pki = testPki();

async function tlsServer(t: TestContext, tls: RpcServerOptions['tls']) {
  const server = new RpcServer({ tls }).register(new Who());
  const clientErrors: RpcError[] = [];
  server.on('clientError', (err) => clientErrors.push(err));
  const { port } = await server.listen(0, '127.0.0.1');
  t.after(() => server.close({ graceMs: 50 }));
  const client = (options: Partial<RpcClientOptions> = {}): RpcClient => {
    const c = new RpcClient({ port, connectTimeoutMs: 3000, defaultTimeoutMs: 5000, ...options });
    c.on('error', () => undefined);
    t.after(() => c.close());
    return c;
  };
  return { server, port, client, clientErrors };
}

const mtls = { ...pki.server, ca: pki.ca, requestCert: true };

test('a TLS call: the client trusting the server CA gets an answer; no client certificate means no peer identity', async (t) => {
  const { client } = await tlsServer(t, pki.server);
  const answer = (await client({ tls: { ca: pki.ca } }).call('Who', 'whoAmI', [])) as { identity: unknown; peer: string };
  assert.equal(answer.identity, null);
  assert.match(answer.peer, /^127\.0\.0\.1:\d+$/);
});

test('the TLS port refuses a plain-TCP client with a clear error and goes on serving TLS clients', async (t) => {
  const { client, clientErrors } = await tlsServer(t, pki.server);
  const err = await rejection(client().call('Who', 'whoAmI', []));
  assert.equal(err.code, RpcCode.UNAVAILABLE);
  assert.match(err.message, /give the client a tls option/);
  assert.ok(
    clientErrors.some((e) => /TLS handshake failed/.test(e.message)),
    clientErrors.map((e) => e.message).join('; '),
  );
  assert.ok(await client({ tls: { ca: pki.ca } }).call('Who', 'whoAmI', []));
});

test('a client that does not trust the server certificate refuses to talk (UNAVAILABLE naming the certificate problem)', async (t) => {
  const { client } = await tlsServer(t, pki.server);
  const err = await rejection(client({ tls: {} }).call('Who', 'whoAmI', []));
  assert.equal(err.code, RpcCode.UNAVAILABLE);
  assert.match(err.message, /CERT|certificate|SELF_SIGNED|UNABLE_TO_VERIFY/i);
  const wrongName = await rejection(client({ tls: { ca: pki.ca, servername: 'billing.example' } }).call('Who', 'whoAmI', []));
  assert.match(wrongName.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
});

test('mTLS: a client certificate from the trusted CA gets through and its subject and SANs are in ctx.peerIdentity', async (t) => {
  const { client } = await tlsServer(t, mtls);
  const answer = (await client({ tls: { ca: pki.ca, ...pki.client } }).call('Who', 'whoAmI', [])) as {
    identity: { subject: Record<string, string>; subjectAltNames: string[]; fingerprint256: string };
  };
  assert.equal(answer.identity.subject.CN, 'billing');
  assert.equal(answer.identity.subject.O, 'Acme');
  assert.deepEqual(answer.identity.subjectAltNames, ['DNS:billing.internal', 'URI:spiffe://acme/billing']);
  assert.match(answer.identity.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('mTLS: a client without a certificate, or with one from another CA, is refused; the server goes on serving', async (t) => {
  const { client, clientErrors } = await tlsServer(t, mtls);
  const without = await rejection(client({ tls: { ca: pki.ca } }).call('Who', 'whoAmI', []));
  assert.equal(without.code, RpcCode.UNAVAILABLE);
  const stranger = await rejection(client({ tls: { ca: pki.ca, ...pki.stranger } }).call('Who', 'whoAmI', []));
  assert.equal(stranger.code, RpcCode.UNAVAILABLE);
  assert.ok(
    clientErrors.length >= 2 && clientErrors.every((e) => e.code === RpcCode.UNAUTHENTICATED),
    clientErrors.map((e) => e.message).join('; '),
  );
  assert.ok(await client({ tls: { ca: pki.ca, ...pki.client } }).call('Who', 'whoAmI', []));
});

test('the HTTP port speaks HTTPS with the same TLS options: RPC over HTTPS and the tunnel, with the mTLS identity', async (t) => {
  const { server, client } = await tlsServer(t, mtls);
  const { port: httpsPort } = await server.listenHttp(0);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: httpsPort,
        path: '/rpc/Who/whoAmI',
        method: 'POST',
        ca: pki.ca,
        ...pki.client,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end('[]');
  });
  assert.equal(JSON.parse(body).identity.subject.CN, 'billing');
  const tunnelled = (await client({ port: httpsPort, httpTunnel: true, tls: { ca: pki.ca, ...pki.client } }).call('Who', 'whoAmI', [])) as {
    identity: { subject: { CN: string } };
  };
  assert.equal(tunnelled.identity.subject.CN, 'billing');
  const plain = await rejection(client({ port: httpsPort, httpTunnel: true }).call('Who', 'whoAmI', []));
  assert.equal(plain.code, RpcCode.UNAVAILABLE);
});

test('ClusterClient passes client.tls on to every endpoint', async (t) => {
  const { port } = await tlsServer(t, mtls);
  const cluster = new ClusterClient({ endpoints: [{ host: '127.0.0.1', port }], client: { tls: { ca: pki.ca, ...pki.client } } });
  t.after(() => cluster.close());
  const answer = (await cluster.proxy(Who).whoAmI()) as { identity: { subject: { CN: string } } };
  assert.equal(answer.identity.subject.CN, 'billing');
});

test('bad TLS options are a RangeError naming the option', () => {
  assert.throws(() => new RpcServer({ tls: { key: pki.server.key } as never }), /tls\.cert is required/);
  assert.throws(() => new RpcServer({ tls: { ...pki.server, requestCert: true } }), /tls\.ca is required/);
  assert.throws(() => new RpcServer({ tls: null as never }), RangeError);
  assert.throws(() => new RpcClient({ port: 1, tls: { cert: pki.client.cert } }), /tls\.cert and tls\.key go together/);
});

test('the CLI calls an mTLS server with --tls-ca, --tls-cert and --tls-key; without the certificate it exits 3', async (t) => {
  const { port } = await tlsServer(t, mtls);
  const main = join(__dirname, '../../src/cli/main.js');
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [main, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });
  const f = pki.files;
  const ok = await run(
    'call',
    `127.0.0.1:${port}`,
    'Who.whoAmI',
    '[]',
    '--tls-ca',
    f.ca,
    '--tls-cert',
    f.clientCert,
    '--tls-key',
    f.clientKey,
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).identity.subject.CN, 'billing');
  const noCert = await run('call', `127.0.0.1:${port}`, 'Who.whoAmI', '[]', '--tls-ca', f.ca);
  assert.equal(noCert.code, 3, noCert.stderr);
  assert.match(noCert.stderr, /UNAVAILABLE/);
  const half = await run('call', `127.0.0.1:${port}`, 'Who.whoAmI', '[]', '--tls-cert', f.clientCert);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /--tls-cert and --tls-key go together/);
  const missing = await run('list', `127.0.0.1:${port}`, '--tls-ca', join(f.dir, 'nope.crt'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--tls-ca: cannot read .*ENOENT/);
});

test('the registry over mTLS: registrar and discovery pass client.tls on; a registrar without a certificate cannot register', async (t) => {
  const registry = new RegistryServer({ sweepIntervalMs: 50, tls: mtls });
  const address = `127.0.0.1:${(await registry.listen(0)).port}`;
  t.after(() => registry.close(0));
  const tls = { ca: pki.ca, ...pki.client };
  const discovery = new RegistryDiscovery({ registry: address, service: 'Secure', client: { tls } });
  t.after(() => discovery.close());
  await discovery.ready();
  const registrar = new RegistryRegistrar({ registry: address, ttlMs: 5000, client: { tls } });
  await registrar.register({ service: 'Secure', host: '127.0.0.1', port: 4444 });
  t.after(() => registrar.deregister());
  await until(() => discovery.endpoints().length === 1, 3000, 'the endpoint registered over mTLS');
  const stranger = new RegistryRegistrar({ registry: address, ttlMs: 5000, client: { tls: { ca: pki.ca } } });
  await assert.rejects(
    stranger.register({ service: 'Secure', host: '127.0.0.1', port: 5555 }),
    (err: RpcError) => err.code === RpcCode.UNAVAILABLE,
  );
  await stranger.deregister();
  assert.deepEqual(
    discovery.endpoints().map((e) => e.port),
    [4444],
  );
});

test('a peer that opens TCP to the TLS or HTTPS port and never starts the TLS handshake is dropped after handshakeTimeoutMs', async (t) => {
  const server = new RpcServer({ tls: pki.server, handshakeTimeoutMs: 200 });
  const clientErrors: RpcError[] = [];
  server.on('clientError', (err) => clientErrors.push(err));
  const { port } = await server.listen(0, '127.0.0.1');
  const { port: httpsPort } = await server.listenHttp(0, '127.0.0.1');
  t.after(() => server.close({ graceMs: 50 }));
  const silentFor = (p: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const socket = connect({ host: '127.0.0.1', port: p });
      const bound = setTimeout(() => {
        socket.destroy();
        reject(new Error(`port ${p} still open after 5 s`));
      }, 5000);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(bound);
        resolve(Date.now() - started);
      });
    });
  for (const p of [port, httpsPort]) {
    const closedAfterMs = await silentFor(p);
    assert.ok(closedAfterMs < 3000, `port ${p} closed after ${closedAfterMs} ms`);
  }
  await until(
    () => clientErrors.filter((e) => /ERR_TLS_HANDSHAKE_TIMEOUT/.test(e.message)).length === 2,
    2000,
    'both dropped peers to be reported',
  );
});
