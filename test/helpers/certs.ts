import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM text of a key and its certificate. */
export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestPki {
  /** The authority that signed `server` and `client`. */
  ca: string;
  /** For 127.0.0.1 and localhost. */
  server: KeyPair;
  /** CN=billing, O=Acme, SANs DNS:billing.internal and URI:spiffe://acme/billing. */
  client: KeyPair;
  /** A client certificate from another authority, which the server must refuse. */
  stranger: KeyPair;
  /** Files written for the CLI and the Python client. */
  files: { dir: string; ca: string; serverKey: string; serverCert: string; clientKey: string; clientCert: string };
  dispose(): void;
}

let cached: TestPki | undefined;

/** A fresh CA with server and client certificates, made with openssl (EC P-256, so in well under a second). */
export function testPki(): TestPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'myrpc-pki-'));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string): void => run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  const ca = (name: string, cn: string): void => {
    key(name);
    run('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2', '-out', `${name}.crt`);
  };
  const leaf = (name: string, subject: string, san: string, usage: string, signer: string): void => {
    key(name);
    run('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${usage}\n`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.crt`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  };
  ca('ca', 'MyRPC test CA');
  ca('other-ca', 'Somebody else');
  leaf('server', '/CN=localhost', 'IP:127.0.0.1,DNS:localhost', 'serverAuth', 'ca');
  leaf('client', '/CN=billing/O=Acme', 'DNS:billing.internal,URI:spiffe://acme/billing', 'clientAuth', 'ca');
  leaf('stranger', '/CN=mallory', 'DNS:mallory.example', 'clientAuth', 'other-ca');
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  const pair = (name: string): KeyPair => ({ key: read(`${name}.key`), cert: read(`${name}.crt`) });
  cached = {
    ca: read('ca.crt'),
    server: pair('server'),
    client: pair('client'),
    stranger: pair('stranger'),
    files: {
      dir,
      ca: join(dir, 'ca.crt'),
      serverKey: join(dir, 'server.key'),
      serverCert: join(dir, 'server.crt'),
      clientKey: join(dir, 'client.key'),
      clientCert: join(dir, 'client.crt'),
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
  process.once('exit', () => cached?.dispose());
  return cached;
}
