import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the parent put the benchmark's certificates; children inherit it through the environment. */
const ENV_DIR = 'MYRPC_BENCH_TLS_DIR';

export interface BenchTls {
  key: string;
  cert: string;
  ca: string;
}

/** A CA and a server certificate for 127.0.0.1 (EC P-256, made with openssl once per benchmark run). */
export function benchTls(): BenchTls {
  let dir = process.env[ENV_DIR];
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'myrpc-bench-tls-'));
    const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
    run('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=bench CA', '-days', '2', '-out', 'ca.crt');
    run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
    run('req', '-new', '-key', 'server.key', '-subj', '/CN=127.0.0.1', '-out', 'server.csr');
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'server.ext',
      '-out',
      'server.crt',
    );
    process.env[ENV_DIR] = dir;
  }
  const read = (f: string): string => readFileSync(join(dir as string, f), 'utf8');
  return { key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt') };
}
