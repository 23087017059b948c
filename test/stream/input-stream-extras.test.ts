/** Client and bidi streams with interceptors, through the HTTP port's CONNECT tunnel, and the README's upload. */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Method, RpcClient, RpcCode, RpcError, RpcServer, Service, type ServerInterceptor } from '../../src/index';
import { startServer } from '../helpers/servers';
import { rejection } from '../helpers/wait';

@Service('Files')
class Files {
  @Method({ stream: 'client', params: [Uint8Array, String] })
  async upload(chunks: AsyncIterable<Uint8Array>, name: string): Promise<number> {
    let bytes = 0;
    for await (const chunk of chunks) {
      assert.ok(Buffer.isBuffer(chunk), `${name}: a Buffer each`);
      bytes += chunk.length;
    }
    return bytes;
  }

  @Method({ stream: 'bidi' }) async *talk(lines: AsyncIterable<string>): AsyncGenerator<string> {
    for await (const line of lines) yield `echo: ${line}`;
  }
}

/** Refuses calls without a token, and upper-cases every item of a stream's input. */
const guard: ServerInterceptor = (next) => async (call) => {
  if (call.context.metadata.token !== 'ok') throw new RpcError(RpcCode.UNAUTHENTICATED, 'no token');
  if (call.method !== 'talk') return next(call);
  const input = call.args[0] as AsyncIterable<string>;
  call.args = [
    (async function* () {
      for await (const line of input) yield line.toUpperCase();
    })(),
    ...call.args.slice(1),
  ];
  return next(call);
};

describe('client and bidi streams: interceptors, the tunnel, files', () => {
  test('an interceptor refuses a client stream before its handler runs, and may wrap a bidi input', async () => {
    const s = await startServer([new Files()], { interceptors: [guard] });
    try {
      const err = await rejection(
        s
          .client()
          .proxy(Files)
          .upload([Buffer.from('x')], 'x'),
      );
      assert.equal(err.code, RpcCode.UNAUTHENTICATED);
      const files = s.client({ metadata: { token: 'ok' } }).proxy(Files);
      assert.equal(await files.upload([Buffer.from('abc')], 'abc'), 3);
      const replies: string[] = [];
      for await (const r of files.talk(['hi', 'bye'])) replies.push(r);
      assert.deepEqual(replies, ['echo: HI', 'echo: BYE']);
    } finally {
      await s.stop();
    }
  });

  test('client and bidi streams work through the HTTP port with httpTunnel', async () => {
    const server = new RpcServer();
    server.register(new Files());
    const { port } = await server.listenHttp(0, '127.0.0.1');
    const client = new RpcClient({ port, host: '127.0.0.1', httpTunnel: true });
    try {
      const files = client.proxy(Files);
      assert.equal(await files.upload([Buffer.from('tunnel')], 't'), 6);
      const replies: string[] = [];
      for await (const r of files.talk(['a'])) replies.push(r);
      assert.deepEqual(replies, ['echo: a']);
    } finally {
      await client.close();
      await server.close({ graceMs: 0 });
    }
  });

  test("a file's read stream uploads as chunks (the README's example), over JSON and MessagePack", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'myrpc-upload-'));
    const path = join(dir, 'big.bin');
    writeFileSync(path, Buffer.alloc(3 * 1024 * 1024 + 5, 7));
    const s = await startServer([new Files()]);
    try {
      for (const codec of ['json', 'msgpack']) {
        assert.equal(await s.client({ codec }).proxy(Files).upload(createReadStream(path), 'big.bin'), 3 * 1024 * 1024 + 5);
      }
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
