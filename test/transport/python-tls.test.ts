import 'reflect-metadata';
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalculatorService } from '../../samples/calculator/calculator-service';
import { apiKeys, bearerAuth, RpcServer } from '../../src/index';
import { testPki } from '../helpers/certs';

const script = join(__dirname, '../../../samples/python/client.py');
const python = ['python3', 'python'].find((p) => {
  try {
    return execFileSync(p, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).startsWith('Python 3');
  } catch {
    return false;
  }
});

function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      python as string,
      [script, ...args],
      { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

test(
  'the Python client speaks mTLS with a bearer token; without its certificate or token it is refused',
  { skip: python ? false : 'python3 not found', timeout: 60_000 },
  async (t) => {
    const pki = testPki();
    const server = new RpcServer({
      tls: { ...pki.server, ca: pki.ca, requestCert: true },
      interceptors: [bearerAuth({ verify: apiKeys({ s3cret: { name: 'py' } }) })],
    });
    server.register(new CalculatorService());
    const { port } = await server.listen(0, '127.0.0.1');
    t.after(() => server.close({ graceMs: 100 }));
    const f = pki.files;
    const base = ['--host', '127.0.0.1', '--port', String(port), '--tls-ca', f.ca];
    const ok = await runPython([...base, '--tls-cert', f.clientCert, '--tls-key', f.clientKey, '--token', 's3cret']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^add\(2, 3\) = 5$/m);
    const noCert = await runPython([...base, '--token', 's3cret']);
    assert.equal(noCert.code, 1);
    assert.match(noCert.stderr, /UNAVAILABLE|certificate|closed/i);
    const noToken = await runPython([...base, '--tls-cert', f.clientCert, '--tls-key', f.clientKey]);
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /UNAUTHENTICATED/);
  },
);
