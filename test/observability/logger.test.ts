import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { Method, RpcClient, RpcCode, RpcServer, Service, silentLogger, type Logger } from '../../src/index';
import { rejection, until } from '../helpers/wait';

type Level = keyof Logger;

interface Entry {
  level: Level;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A pino-shaped logger that records every call; methods are called on the object, as pino's must be. */
class RecordingLogger implements Logger {
  readonly entries: Entry[] = [];

  debug(obj: object, msg?: string): void {
    this.record('debug', obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.record('info', obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.record('warn', obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.record('error', obj, msg);
  }

  at(level: Level): Entry[] {
    return this.entries.filter((e) => e.level === level);
  }

  private record(level: Level, obj: object, msg: string | undefined): void {
    assert.ok(this instanceof RecordingLogger, 'called as a method of the logger');
    this.entries.push({ level, obj: obj as Record<string, unknown>, msg });
  }
}

@Service('Faulty')
class FaultyService {
  @Method() crash(): never {
    throw new Error('disk on fire');
  }

  @Method() ok(): string {
    return 'fine';
  }
}

/** Sends bytes that are not the MyRPC preface and waits for the server to hang up. */
function sendGarbage(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(Buffer.from('this is not the MyRPC preface\n')));
    const bound = setTimeout(() => socket.destroy(new Error('the server did not hang up within 5 s')), 5000);
    socket.on('data', () => undefined);
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(bound);
      resolve();
    });
  });
}

/**
 * The default is silent, checked in a child process so that nothing else (such as the test runner's own
 * reporting) can write to its stdout or stderr: the child does everything the logging test logs, and prints
 * nothing. This file is that child when CHILD_FLAG is set.
 */
const CHILD_FLAG = 'MYRPC_SILENT_LOGGER_CHILD';

async function childBody(): Promise<void> {
  const server = new RpcServer().register(new FaultyService());
  const { port } = await server.listen(0);
  const { port: httpPort } = await server.listenHttp(0);
  await sendGarbage(port);
  const client = new RpcClient({ port });
  await client.call('Faulty', 'crash', []).catch(() => undefined);
  await client.close();
  await fetch(`http://127.0.0.1:${httpPort}/rpc/Faulty/crash`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '[]',
  });
  await server.close({ graceMs: 100 });
  process.send?.('done', () => process.disconnect?.());
}

if (process.env[CHILD_FLAG] === '1') {
  void childBody();
} else {
  registerTests();
}

function registerTests(): void {
  test('a logger given to RpcServer gets info on listening, warn on a client error, error on a handler failure', async () => {
    const logger = new RecordingLogger();
    const server = new RpcServer({ logger }).register(new FaultyService());
    try {
      const { port } = await server.listen(0);
      const { port: httpPort } = await server.listenHttp(0);
      assert.deepEqual(
        logger.at('info').map((e) => [e.msg, e.obj.port]),
        [
          ['myrpc server listening', port],
          ['myrpc http listening', httpPort],
        ],
      );
      assert.equal(logger.at('info')[0].obj.address, '127.0.0.1');

      await sendGarbage(port);
      await until(() => logger.at('warn').length === 1, 5000, 'the warn entry');
      const warn = logger.at('warn')[0];
      assert.equal(warn.obj.code, RpcCode.INVALID_ARGUMENT);
      assert.match(String(warn.obj.peer), /^127\.0\.0\.1:\d+$/);
      assert.match(warn.msg ?? '', /bad magic/);

      const tcp = new RpcClient({ port });
      try {
        const err = await rejection(tcp.call('Faulty', 'crash', []));
        assert.equal(err.code, RpcCode.INTERNAL);
        assert.equal(await tcp.call('Faulty', 'ok', []), 'fine');
      } finally {
        await tcp.close();
      }
      const res = await fetch(`http://127.0.0.1:${httpPort}/rpc/Faulty/crash`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[]',
      });
      assert.equal(res.status, 500);
      const errors = logger.at('error');
      assert.equal(errors.length, 2, 'one error entry per failed handler, over TCP and over HTTP');
      for (const e of errors) {
        assert.equal(e.obj.service, 'Faulty');
        assert.equal(e.obj.method, 'crash');
        assert.ok(
          e.obj.err instanceof Error && e.obj.err.message === 'disk on fire',
          'the thrown error itself, for the logger to serialize',
        );
        assert.equal(e.msg, 'Faulty.crash threw');
      }
      assert.equal(logger.at('warn').length, 1, 'successful and failed calls are not client errors');
    } finally {
      await server.close({ graceMs: 100 });
    }
    assert.equal(logger.entries.at(-1)?.msg, 'myrpc server closed');
    assert.equal(logger.at('debug').length, 0);
  });

  test('silentLogger accepts every call and does nothing', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) assert.equal(silentLogger[level]({ a: 1 }, 'x'), undefined);
  });

  test('without a logger the server writes nothing to stdout or stderr (checked in a child process)', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_FLAG]: '1' };
    delete env.NODE_TEST_CONTEXT; // the child must not report as a test file
    const child = fork(__filename, [], { env, silent: true, execArgv: [] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    let finished = false;
    child.on('message', (m) => (finished = m === 'done'));
    const bound = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(bound);
    assert.equal(code, 0, stderr);
    assert.ok(finished, 'the child went through listen, garbage, a failing handler over TCP and HTTP, and close');
    assert.equal(stdout, '');
    assert.equal(stderr, '');
  });
}
