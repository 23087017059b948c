import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { CalculatorService } from '../../samples/calculator/calculator-service';
import { startCalculatorServer } from '../../samples/calculator/server';
import { KeyValueService } from '../../samples/sharded-kv/kv-service';
import { CALL_HELP, DESCRIBE_HELP, LIST_HELP } from '../../src/cli/client-commands';
import { REGISTRY_HELP } from '../../src/cli/registry-command';
import { Ctx, DESCRIBE_SERVICE, Method, RpcClient, Service, type CallContext, type RpcServer } from '../../src/index';
import { until } from '../helpers/wait';
import { closedPort } from '../helpers/servers';

const MAIN = join(__dirname, '../../src/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as its own process (the server under test lives in this one), bounded to 60 s. */
function myrpc(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

@Service('Echo')
class EchoService {
  @Method() metadata(@Ctx() ctx: CallContext): Readonly<Record<string, string>> {
    return ctx.metadata;
  }
  @Method() text(length: number): string {
    return 'x'.repeat(length);
  }
}

let server: RpcServer;
let service: CalculatorService;
let address: string;
let httpAddress: string;

before(async () => {
  const started = await startCalculatorServer(0);
  server = started.server.register(new KeyValueService('x')).register(new EchoService());
  service = started.service;
  address = `127.0.0.1:${started.port}`;
  httpAddress = `127.0.0.1:${(await server.listenHttp(0)).port}`;
});

after(() => server.close({ graceMs: 100 }));

describe('myrpc list and describe', () => {
  test('list prints each service with its methods', async () => {
    const r = await myrpc('list', address);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Calculator: add, compute, slowSum\nKeyValue: get, put, increment, stats\nEcho: metadata, text\n');
    assert.equal(r.stderr, '');
  });

  test('describe prints the signatures, the shard key and the method options', async () => {
    const calc = await myrpc('describe', address, 'Calculator');
    assert.equal(calc.code, 0, calc.stderr);
    assert.equal(
      calc.stdout,
      [
        'service Calculator',
        '  add(number, number)  [idempotent]',
        '  compute(Operation)',
        '  slowSum(number, number)  [timeout 60000 ms]',
        '',
      ].join('\n'),
    );
    const kv = await myrpc('describe', address, 'KeyValue');
    assert.equal(kv.code, 0, kv.stderr);
    assert.equal(
      kv.stdout,
      [
        'service KeyValue',
        '  get(@ShardKey string)  [idempotent]',
        '  put(@ShardKey string, string)  [idempotent]',
        "  increment(@ShardKey('key') IncrementRequest)",
        '  stats()',
        '',
      ].join('\n'),
    );
  });

  test('describe --json prints what MyRpcDescribe.describe answers, wherever the flag stands', async () => {
    const client = new RpcClient({ port: Number(address.split(':')[1]) });
    const expected = await client.call(DESCRIBE_SERVICE, 'describe', ['Calculator']).finally(() => client.close());
    const last = await myrpc('describe', address, 'Calculator', '--json');
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(JSON.parse(last.stdout), expected);
    // Regression: --json before the positionals used to swallow the address as its value.
    const first = await myrpc('describe', '--json', address, 'Calculator');
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), expected);
  });

  test('describe of an unknown service exits 1 with NOT_FOUND', async () => {
    const r = await myrpc('describe', address, 'Nope');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NOT_FOUND: unknown service 'Nope'/);
  });
});

describe('myrpc call', () => {
  test('a successful call prints the JSON result and exits 0', async () => {
    const r = await myrpc('call', address, 'Calculator.add', '[2, 3]');
    assert.deepEqual(r, { code: 0, stdout: '5\n', stderr: '' });
    const dto = await myrpc('call', address, 'Calculator.compute', '[{"op":"mul","a":6,"b":7,"label":"answer"}]', '--codec', 'msgpack');
    assert.equal(dto.code, 0, dto.stderr);
    assert.deepEqual(JSON.parse(dto.stdout), { label: 'answer', value: 42 });
  });

  test('a validation failure exits 1 and prints CODE: message, then one line per detail', async () => {
    const r = await myrpc('call', address, 'Calculator.compute', '[{"op":"pow","a":"x","b":2}]');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0], /^INVALID_ARGUMENT: invalid arguments for Calculator\.compute: /);
    assert.deepEqual(lines.slice(1), [
      '  args[0].op isIn: op must be one of the following values: add, sub, mul, div',
      '  args[0].a isNumber: a must be a number conforming to the specified constraints',
    ]);
  });

  test('--timeout 100 on slowSum exits 4 with DEADLINE_EXCEEDED', async () => {
    const r = await myrpc('call', address, 'Calculator.slowSum', '[1000, 10]', '--timeout', '100');
    assert.equal(r.code, 4, r.stderr);
    // Both ends enforce the deadline: whichever notices first words the message (a loaded machine decides).
    assert.match(r.stderr, /^DEADLINE_EXCEEDED: Calculator\.slowSum(: deadline exceeded| did not finish before the call's deadline)/);
    assert.equal(r.stdout, '');
  });

  test("the CLI's deadline reaches the server: the handler is stopped by its signal", async () => {
    const before = service.cancelledSums;
    // Long enough to connect on a loaded machine (so the request is surely sent), far below slowSum's 10 s.
    const r = await myrpc('call', address, 'Calculator.slowSum', '[1000, 10]', '--timeout', '2000');
    assert.equal(r.code, 4, r.stderr);
    await until(() => service.cancelledSums === before + 1, 5000, 'slowSum to be stopped by its signal');
  });

  test('an unreachable address exits 3 with UNAVAILABLE', async () => {
    const port = await closedPort();
    const call = await myrpc('call', `127.0.0.1:${port}`, 'Calculator.add', '[2, 3]');
    assert.equal(call.code, 3, call.stderr);
    assert.match(call.stderr, /^UNAVAILABLE: cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED/);
    const list = await myrpc('list', `127.0.0.1:${port}`);
    assert.equal(list.code, 3, list.stderr);
    assert.match(list.stderr, /UNAVAILABLE/);
  });

  test('a silent peer (accepts, never answers the preface) exits 3, not 4, even when --timeout is short', async (t) => {
    const silent = createNetServer((socket) => {
      t.after(() => socket.destroy());
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => silent.close());
    const silentAddress = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    for (const timeout of ['300', '1000']) {
      const r = await myrpc('call', silentAddress, 'Calculator.add', '[2, 3]', '--timeout', timeout);
      assert.equal(r.code, 3, `--timeout ${timeout}: ${r.stderr}`);
      assert.match(r.stderr, /^UNAVAILABLE: /);
    }
  });

  test('output through a pipe is not cut at 64 KiB (regression: process.exit right after console.log)', async () => {
    const length = 300_000;
    const r = await myrpc('call', address, 'Echo.text', `[${length}]`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, length + 3, 'the quoted string and a newline');
    assert.equal(JSON.parse(r.stdout), 'x'.repeat(length));
  });

  test("the server's HTTP port is not the CLI's: exit 3 with UNAVAILABLE, and the server serves on", async () => {
    const r = await myrpc('call', httpAddress, 'Calculator.add', '[2, 3]');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^UNAVAILABLE: /);
    assert.equal((await myrpc('call', address, 'Calculator.add', '[2, 3]')).stdout, '5\n');
  });

  test('--metadata k=v,k2=v2 reaches ctx.metadata', async () => {
    const r = await myrpc('call', address, 'Echo.metadata', '[]', '--metadata', 'tenant=acme,trace=t-1=2');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { tenant: 'acme', trace: 't-1=2' });
  });
});

describe('usage errors exit 2 with the help text; --help exits 0', () => {
  // The other usage errors are pinned in process, through main(), in args.test.ts.
  const usage: [string, string[], RegExp, string][] = [
    ['arguments that are not JSON', ['call', '$addr', 'Calculator.add', '[2,'], /the arguments are not valid JSON/, CALL_HELP],
    ['call without anything', ['call'], /Service\.method/, CALL_HELP],
    ['list without an address', ['list'], /missing <host:port>/, LIST_HELP],
    ['describe without a service', ['describe', '$addr'], /missing <Service>/, DESCRIBE_HELP],
  ];
  for (const [what, args, message, help] of usage) {
    test(what, async () => {
      const r = await myrpc(...args.map((a) => (a === '$addr' ? address : a)));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(r.stderr.includes(help), 'the command help follows the message');
      assert.equal(r.stdout, '');
    });
  }

  test('an unknown command prints the general help to stderr; no command prints it to stdout; both exit 2', async () => {
    const unknown = await myrpc('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^myrpc: unknown command 'frobnicate'/);
    assert.match(unknown.stderr, /Commands:\n {2}list/);
    const none = await myrpc();
    assert.equal(none.code, 2);
    assert.match(none.stdout, /^myrpc <command> \[options\]/);
  });

  test('--help and -h print the help of each command and exit 0', async () => {
    const helps: [string, string][] = [
      ['list', LIST_HELP],
      ['describe', DESCRIBE_HELP],
      ['call', CALL_HELP],
      ['registry', REGISTRY_HELP],
    ];
    for (const [name, help] of helps) assert.deepEqual(await myrpc(name, '--help'), { code: 0, stdout: `${help}\n`, stderr: '' }, name);
    const short = await myrpc('call', '-h');
    assert.equal(short.stdout, `${CALL_HELP}\n`);
    const general = await myrpc('--help');
    assert.equal(general.code, 0);
    assert.match(general.stdout, /Exit codes: 0 ok, 1 the call failed/);
  });
});
