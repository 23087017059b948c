import 'reflect-metadata';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiKeys,
  bearerAuth,
  Ctx,
  Method,
  type RpcClient,
  RpcCode,
  RpcError,
  Service,
  withOptions,
  type CallContext,
  type RpcClientOptions,
} from '../../src/index';
import { startServer } from '../helpers/servers';
import { rejection } from '../helpers/wait';

@Service('Vault')
class Vault {
  @Method()
  read(@Ctx() ctx: CallContext): unknown {
    return { principal: ctx.principal };
  }

  @Method({ meta: { roles: ['admin'] } })
  wipe(): string {
    return 'wiped';
  }
}

const KEYS = { 'reader-key': { name: 'reader', roles: ['reader'] }, 'admin-key': { name: 'root', roles: ['admin'] } };

async function setup(t: TestContext) {
  const s = await startServer([new Vault()], { interceptors: [bearerAuth({ verify: apiKeys(KEYS) })] });
  const { port: httpPort } = await s.server.listenHttp(0);
  t.after(() => s.stop());
  const client = (token: string | undefined, options: Partial<RpcClientOptions> = {}): RpcClient =>
    s.client({ ...options, ...(token === undefined ? {} : { metadata: { authorization: `Bearer ${token}` } }) });
  const http = (path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${httpPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '[]',
    });
  return { s, httpPort, client, http };
}

test('bearerAuth over TCP: no credentials and an unknown token are UNAUTHENTICATED; a known one runs with its principal', async (t) => {
  const { client } = await setup(t);
  const none = await rejection(client(undefined).call('Vault', 'read', []));
  assert.equal(none.code, RpcCode.UNAUTHENTICATED);
  assert.match(none.message, /credentials required/);
  const wrong = await rejection(client('guess').call('Vault', 'read', []));
  assert.equal(wrong.code, RpcCode.UNAUTHENTICATED);
  assert.deepEqual(await client('reader-key').call('Vault', 'read', []), { principal: { name: 'reader', roles: ['reader'] } });
});

test('bearerAuth: a known caller without the method meta role gets PERMISSION_DENIED; one with it runs', async (t) => {
  const { client } = await setup(t);
  const denied = await rejection(client('reader-key').call('Vault', 'wipe', []));
  assert.equal(denied.code, RpcCode.PERMISSION_DENIED);
  assert.equal(await client('admin-key').call('Vault', 'wipe', []), 'wiped');
});

test('bearerAuth: a malformed authorization value is UNAUTHENTICATED and the server goes on serving', async (t) => {
  const { s, client } = await setup(t);
  for (const bad of ['reader-key', 'Basic cmVhZGVy', 'Bearer ', 'Bearer', '']) {
    const err = await rejection(s.client({ metadata: { authorization: bad } }).call('Vault', 'read', []));
    assert.equal(err.code, RpcCode.UNAUTHENTICATED, `for '${bad}'`);
  }
  assert.ok(await client('reader-key').call('Vault', 'read', []));
});

test('per-call credentials through withOptions override the client default', async (t) => {
  const { client } = await setup(t);
  const vault = client('reader-key').proxy(Vault);
  assert.equal((await rejection(vault.wipe())).code, RpcCode.PERMISSION_DENIED);
  assert.equal(await withOptions(vault, { metadata: { authorization: 'Bearer admin-key' } }).wipe(), 'wiped');
});

test('bearerAuth over HTTP reads the Authorization header: 401 without, 403 for a missing role, 200 with', async (t) => {
  const { http } = await setup(t);
  const none = await http('/rpc/Vault/read');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal(((await none.json()) as { code: string }).code, RpcCode.UNAUTHENTICATED);
  assert.equal((await http('/rpc/Vault/wipe', { authorization: 'Bearer reader-key' })).status, 403);
  const ok = await http('/rpc/Vault/read', { authorization: 'Bearer reader-key' });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { principal: { name: 'reader', roles: ['reader'] } });
});

test('bearerAuth over the HTTP CONNECT tunnel uses the call metadata like TCP', async (t) => {
  const { s, httpPort } = await setup(t);
  const tunnel = (metadata?: Record<string, string>): RpcClient => s.client({ port: httpPort, httpTunnel: true, metadata });
  assert.equal((await rejection(tunnel().call('Vault', 'read', []))).code, RpcCode.UNAUTHENTICATED);
  assert.equal(await tunnel({ authorization: 'Bearer admin-key' }).call('Vault', 'wipe', []), 'wiped');
});

test('the describe service sits behind the same global auth', async (t) => {
  const { client } = await setup(t);
  assert.equal((await rejection(client(undefined).call('MyRpcDescribe', 'services', []))).code, RpcCode.UNAUTHENTICATED);
  assert.ok(Array.isArray(await client('reader-key').call('MyRpcDescribe', 'services', [])));
});

test('a verify that throws an RpcError sends that error; skip lets chosen calls through', async (t) => {
  const verify = (token: string): unknown => {
    if (token === 'banned') throw new RpcError(RpcCode.PERMISSION_DENIED, 'account suspended');
    return token === 'ok' ? { name: 'ok' } : undefined;
  };
  const s = await startServer([new Vault()], { interceptors: [bearerAuth({ verify, skip: (call) => call.method === 'wipe' })] });
  t.after(() => s.stop());
  const banned = await rejection(s.client({ metadata: { authorization: 'Bearer banned' } }).call('Vault', 'read', []));
  assert.equal(banned.code, RpcCode.PERMISSION_DENIED);
  assert.equal(banned.message, 'account suspended');
  assert.equal(await s.client().call('Vault', 'wipe', []), 'wiped');
});

test('bearerAuth and apiKeys refuse bad options with a RangeError', () => {
  assert.throws(() => bearerAuth({} as never), RangeError);
  assert.throws(() => apiKeys({}), RangeError);
});
