import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSecureClient } from '../../samples/secure/client';
import { startSecureServer } from '../../samples/secure/server';
import { testPki } from '../helpers/certs';

test('the secure sample: mTLS, UNAUTHENTICATED without a token, NOT_FOUND from a domain error, roles from meta', async (t) => {
  const pki = testPki();
  const keys = { admin: 'admin-key-1', app: 'app-key-1' };
  const { server, port } = await startSecureServer({ ...pki.server, ca: pki.ca, requestCert: true }, keys);
  t.after(() => server.close({ graceMs: 100 }));
  const lines = await runSecureClient(port, { ca: pki.ca, ...pki.client }, keys, () => undefined);
  assert.deepEqual(lines, [
    'anonymous balance(alice) -> UNAUTHENTICATED',
    'app balance(alice) -> 120',
    'app balance(carol) -> NOT_FOUND',
    'app close(bob) -> PERMISSION_DENIED',
    'ops close(bob) -> "closed bob for ops"',
  ]);
});
