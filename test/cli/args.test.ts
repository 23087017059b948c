import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCalculatorServer } from '../../samples/calculator/server';
import { intFlag, parseArgs, stringFlag, UsageError } from '../../src/cli/args';
import { CALL_HELP, DESCRIBE_HELP, LIST_HELP } from '../../src/cli/client-commands';
import { main } from '../../src/cli/main';

/** Runs main() in this process, collecting what it prints. */
async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out, err };
}

const SPECS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  codec: { type: 'string' },
} as const;

test('parseArgs: positionals, --flag value, --flag=value, flags anywhere, and -- ending the flags', () => {
  const a = parseArgs(['--timeout', '100', '127.0.0.1:7000', 'Calculator.add', '--codec=msgpack', '[2, 3]', '--json'], SPECS);
  assert.deepEqual(a.positionals, ['127.0.0.1:7000', 'Calculator.add', '[2, 3]']);
  assert.deepEqual([...a.flags].sort(), [
    ['codec', 'msgpack'],
    ['json', true],
    ['timeout', '100'],
  ]);
  const b = parseArgs(['x', '--', '--not-a-flag', '-'], SPECS);
  assert.deepEqual(b.positionals, ['x', '--not-a-flag', '-']);
  assert.equal(b.flags.size, 0);
});

test('parseArgs is strict: an unknown flag, a missing value or a value on a boolean flag is a UsageError', () => {
  const cases: [string[], RegExp][] = [
    [['--timout', '5'], /^Unknown option '--timout'$/],
    [['-x'], /^Unknown option '-x'$/],
    [['--timeout'], /argument missing/],
    [['--timeout', '--codec', 'json'], /^Option '--timeout' argument is ambiguous\.$/],
    [['--json=yes'], /'--json' does not take an argument/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseArgs(argv, SPECS),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      argv.join(' '),
    );
  }
});

test('parseArgs: --help, -h and --json never take a value, wherever they stand (regression: --json ate the address)', () => {
  const a = parseArgs(['--json', '127.0.0.1:7000', 'Calculator'], SPECS);
  assert.deepEqual(a.positionals, ['127.0.0.1:7000', 'Calculator']);
  assert.equal(a.flags.get('json'), true);
  const b = parseArgs(['-h', 'list'], SPECS);
  assert.deepEqual(b.positionals, ['list']);
  assert.equal(b.flags.get('help'), true);
});

test('intFlag and stringFlag: fallbacks, and a UsageError for a bad or missing value', () => {
  const specs = { ...SPECS, port: { type: 'string' }, host: { type: 'string' } } as const;
  const a = parseArgs(['--timeout', '250', '--codec', 'json', '--port=-1', '--host', 'x'], specs);
  assert.equal(intFlag(a, 'timeout', 10), 250);
  assert.equal(intFlag(a, 'missing', 10), 10);
  assert.throws(
    () => intFlag(a, 'port', 0),
    (e: unknown) => e instanceof UsageError && /--port takes a whole number, got '-1'/.test(e.message),
  );
  assert.throws(() => intFlag(parseArgs(['--timeout', '1.5'], SPECS), 'timeout', 0), UsageError);
  assert.throws(() => intFlag(parseArgs(['--timeout', '1e3'], SPECS), 'timeout', 0), UsageError);
  assert.throws(() => intFlag(a, 'host', 0), UsageError);
  assert.equal(stringFlag(a, 'codec', 'msgpack'), 'json');
  assert.equal(stringFlag(a, 'missing', 'dflt'), 'dflt');
  assert.equal(stringFlag(a, 'host', '127.0.0.1'), 'x');
});

test('main(): usage errors return 2 and print the message and the command help through err', async () => {
  const r = await run('call', '127.0.0.1:1', 'Calculator.add', 'nope');
  assert.equal(r.code, 2);
  assert.deepEqual(r.out, []);
  assert.equal(r.err.length, 1);
  assert.match(r.err[0], /^myrpc call: the arguments are not valid JSON: /);
  assert.ok(r.err[0].endsWith(`\n\n${CALL_HELP}`));
  assert.equal((await run('nope')).code, 2);
  assert.equal((await run()).code, 2);
  assert.equal((await run('help')).code, 0);
  assert.deepEqual(await run('call', '--help'), { code: 0, out: [CALL_HELP], err: [] });
});

test('main(): each usage mistake returns 2 with its message and the help of its command', async () => {
  const cases: [string[], RegExp, string][] = [
    [['call', '127.0.0.1:1', 'Calculator.add', '{"a":2}'], /must be a JSON array/, CALL_HELP],
    [['call', '127.0.0.1:1', 'add', '[2,3]'], /the method must be written Service\.method/, CALL_HELP],
    [['call', '127.0.0.1:1', 'Calculator.', '[2,3]'], /Service\.method/, CALL_HELP],
    [['list', 'localhost'], /address must be host:port, got 'localhost'/, LIST_HELP],
    [['list', '127.0.0.1:99999'], /host:port/, LIST_HELP],
    [['call', '127.0.0.1:1', 'Calculator.add', '[2,3]', '--timeout', 'soon'], /--timeout takes a whole number, got 'soon'/, CALL_HELP],
    [['call', '127.0.0.1:1', 'Calculator.add', '[2,3]', '--metadata', 'oops'], /--metadata: 'oops' is not k=v/, CALL_HELP],
    [['call', '127.0.0.1:1', 'Calculator.add', '[2,3]', '--metadata'], /--metadata <value>' argument missing/, CALL_HELP],
    // Regression: an unknown codec used to be reported as a failed call (exit 1).
    [['call', '127.0.0.1:1', 'Calculator.add', '[2,3]', '--codec', 'yaml'], /--codec: unknown codec 'yaml'/, CALL_HELP],
    [['describe', '127.0.0.1:1'], /missing <Service>/, DESCRIBE_HELP],
    // Regression: unknown flags were accepted silently (`--timout 5` exited 0).
    [['call', '127.0.0.1:1', 'Calculator.add', '[2,3]', '--timout', '5'], /^myrpc call: Unknown option '--timout'/, CALL_HELP],
    [['--timout', '5', 'list', '127.0.0.1:1'], /^myrpc list: Unknown option '--timout'/, LIST_HELP],
    [['list', '127.0.0.1:1', '--json'], /Unknown option '--json'/, LIST_HELP],
    [['call', '127.0.0.1:1', 'Calculator.add', '[2,3]', '--timeout', '0'], /--timeout must be at least 1 ms/, CALL_HELP],
    [['call', '127.0.0.1:1', 'Calculator.add', '[2,3]', '--timeout'], /--timeout <value>' argument missing/, CALL_HELP],
  ];
  for (const [argv, message, help] of cases) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.deepEqual(r.out, []);
    assert.match(r.err.join('\n'), message);
    assert.ok(r.err.join('\n').endsWith(help), `${argv.join(' ')}: the command help follows`);
  }
});

test('main(): a real call in this process, through out and err', async () => {
  const { server, port } = await startCalculatorServer(0);
  try {
    assert.deepEqual(await run('call', `127.0.0.1:${port}`, 'Calculator.add', '[2, 3]'), { code: 0, out: ['5'], err: [] });
    const failed = await run('call', `127.0.0.1:${port}`, 'Calculator.compute', '[{"op":"div","a":1,"b":0}]');
    assert.deepEqual(failed, {
      code: 1,
      out: [],
      err: ['INVALID_ARGUMENT: division by zero', '  args[0].b nonZero: b must not be 0 for div'],
    });
    assert.deepEqual(await run('call', `127.0.0.1:${port}`, 'Nope.add', '[]'), {
      code: 1,
      out: [],
      err: ["UNIMPLEMENTED: unknown service 'Nope'"],
    });
    // Flags may stand before the command name.
    assert.deepEqual(await run('--timeout', '5000', '--codec', 'msgpack', 'call', `127.0.0.1:${port}`, 'Calculator.add', '[2, 3]'), {
      code: 0,
      out: ['5'],
      err: [],
    });
    const json = await run('describe', '--json', `127.0.0.1:${port}`, 'Calculator');
    assert.equal(json.code, 0, json.err.join('\n'));
    assert.equal(JSON.parse(json.out[0]).name, 'Calculator');
  } finally {
    await server.close({ graceMs: 100 });
  }
});
