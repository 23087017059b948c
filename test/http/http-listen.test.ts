import 'reflect-metadata';
import { connect } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcServer } from '../../src/index';

test('a failed listenHttp (port in use) can be retried on another port', async () => {
  const first = new RpcServer();
  const second = new RpcServer();
  try {
    const { port } = await first.listenHttp(0);
    await assert.rejects(second.listenHttp(port), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    const retried = await second.listenHttp(0);
    assert.ok(retried.port > 0 && retried.port !== port);
  } finally {
    await Promise.all([first.close({ graceMs: 0 }), second.close({ graceMs: 0 })]);
  }
});

test('bytes that are not HTTP on the HTTP port get a 400 that says what the port serves', async () => {
  const server = new RpcServer();
  const warnings: string[] = [];
  const quiet = (): void => undefined;
  const logging = new RpcServer({ logger: { debug: quiet, info: quiet, error: quiet, warn: (_o, msg) => warnings.push(msg ?? '') } });
  try {
    const { port } = await logging.listenHttp(0);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.write(Buffer.from('4d59525043010000001000000000', 'hex')); // a MyRPC preface, not HTTP
    });
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /POST \/rpc\/<Service>\/<method>/);
    assert.deepEqual(warnings, ['malformed HTTP request']);
  } finally {
    await Promise.all([server.close({ graceMs: 0 }), logging.close({ graceMs: 0 })]);
  }
});
