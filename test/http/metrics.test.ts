import 'reflect-metadata';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CalculatorService } from '../../samples/calculator/calculator-service';
import { Method, RpcClient, RpcError, RpcServer, Service, type RpcCode } from '../../src/index';
import { deferred, rejection, until, type Deferred } from '../helpers/wait';

/** One sample line: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: string;
  help: string;
}

interface Exposition {
  families: Map<string, Family>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a # HELP, a # TYPE or a sample; a
 * sample belongs to a family declared before it (a histogram's `_bucket`, `_sum` and `_count` to the
 * histogram); label values are unescaped; no series appears twice. Throws on anything else.
 */
function parseExposition(text: string): Exposition {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      const family = families.get(name) ?? { type: '', help: '' };
      if (kind === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), `TYPE of ${name}: ${rest}`);
        assert.equal(family.type, '', `one TYPE line for ${name}`);
        family.type = rest;
      } else {
        family.help = rest;
      }
      families.set(name, family);
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const [, name, rawLabels = '', rawValue] = m;
    const labels = parseLabels(rawLabels);
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    assert.ok(!Number.isNaN(value) || rawValue === 'NaN', `value of ${line}`);
    const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
    assert.ok(family?.type, `${name} is declared by a # TYPE line before its samples`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    assert.ok(!seen.has(key), `series ${key} appears once`);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  return { families, samples };
}

function parseLabels(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < raw.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(raw);
    assert.ok(m, `bad labels at ${start}: ${raw}`);
    labels[m[1]] = m[2].replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function value(expo: Exposition, name: string, labels: Record<string, string>): number | undefined {
  const match = expo.samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  return match?.value;
}

@Service('Held')
class HeldService {
  readonly gates: Deferred<void>[] = [];

  /** Answers when the test opens its gate. */
  @Method() async wait(): Promise<string> {
    const gate = deferred();
    this.gates.push(gate);
    await gate.promise;
    return 'done';
  }

  @Method() fail(code: string): never {
    throw new RpcError(code as RpcCode, code);
  }
}

async function setup(t: TestContext) {
  const held = new HeldService();
  const server = new RpcServer().register(new CalculatorService()).register(held);
  const { port } = await server.listen(0);
  const { port: httpPort } = await server.listenHttp(0);
  const client = new RpcClient({ port });
  t.after(async () => {
    for (const gate of held.gates) gate.resolve();
    await client.close();
    await server.close({ graceMs: 100 });
  });
  const scrape = async (): Promise<Exposition> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };
  const postRpc = (path: string, args: unknown[]): Promise<Response> =>
    fetch(`http://127.0.0.1:${httpPort}/rpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
  return { server, client, held, scrape, postRpc };
}

test('/metrics parses as Prometheus text with the documented families', async (t) => {
  const { scrape } = await setup(t);
  const expo = await scrape();
  assert.deepEqual(
    [...expo.families.entries()].map(([name, f]) => [name, f.type]),
    [
      ['myrpc_server_calls_total', 'counter'],
      ['myrpc_server_call_duration_seconds', 'histogram'],
      ['myrpc_server_calls_in_flight', 'gauge'],
      ['myrpc_server_connections', 'gauge'],
      ['myrpc_server_start_time_seconds', 'gauge'],
      ['myrpc_streams_open', 'gauge'],
      ['myrpc_streams_opened_total', 'counter'],
      ['myrpc_stream_items_sent_total', 'counter'],
      ['myrpc_stream_items_received_total', 'counter'],
    ],
  );
  for (const [name, f] of expo.families) assert.ok(f.help.length > 0, `${name} has a HELP line`);
  const startedAt = value(expo, 'myrpc_server_start_time_seconds', {});
  assert.ok(startedAt !== undefined && Math.abs(startedAt - Date.now() / 1000) < 3600, 'start time is in seconds since the epoch');
});

test('myrpc_server_calls_total counts calls over TCP and HTTP by result code, OK for success', async (t) => {
  const { client, scrape, postRpc } = await setup(t);
  await client.call('Calculator', 'add', [1, 2]);
  await client.call('Calculator', 'add', [3, 4]);
  assert.equal((await postRpc('Calculator/add', [5, 6])).status, 200);
  await rejection(client.call('Calculator', 'compute', [{ op: 'pow', a: 1, b: 2 }]));
  assert.equal((await postRpc('Held/fail', ['NOT_FOUND'])).status, 404);
  await rejection(client.call('Held', 'fail', ['NOT_FOUND']));
  await rejection(client.call('Held', 'fail', ['ABORTED']));
  const expo = await scrape();
  const calls = (service: string, method: string, code: string): number | undefined =>
    value(expo, 'myrpc_server_calls_total', { service, method, code });
  assert.equal(calls('Calculator', 'add', 'OK'), 3);
  assert.equal(calls('Calculator', 'compute', 'OK'), 0);
  assert.equal(calls('Calculator', 'compute', 'INVALID_ARGUMENT'), 1);
  assert.equal(calls('Held', 'fail', 'NOT_FOUND'), 2);
  assert.equal(calls('Held', 'fail', 'ABORTED'), 1);
  assert.equal(calls('Held', 'fail', 'OK'), 0);
  assert.equal(calls('Calculator', 'add', 'INVALID_ARGUMENT'), undefined, 'no series for codes that never happened');
  assert.equal(value(expo, 'myrpc_server_connections', {}), 1);
});

test('histogram buckets are cumulative, sorted by le, and end with +Inf equal to _count and to the calls counted', async (t) => {
  const { client, scrape, server } = await setup(t);
  for (let i = 0; i < 5; i++) await client.call('Calculator', 'add', [i, i]);
  await rejection(client.call('Held', 'fail', ['INTERNAL']));
  await rejection(client.call('Calculator', 'slowSum', [1000, 10], { timeoutMs: 30 }));
  await until(() => server.inFlight === 0, 5000, 'the server to end slowSum too'); // the client's own timer may fire first
  const expo = await scrape();
  const series = new Set(
    expo.samples.filter((s) => s.name === 'myrpc_server_call_duration_seconds_count').map((s) => `${s.labels.service}.${s.labels.method}`),
  );
  assert.ok(series.has('Calculator.add') && series.has('Held.fail') && series.has('MyRpcDescribe.describe'));
  for (const what of series) {
    const [service, method] = what.split('.');
    const buckets = expo.samples.filter(
      (s) => s.name === 'myrpc_server_call_duration_seconds_bucket' && s.labels.service === service && s.labels.method === method,
    );
    const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
    assert.deepEqual(
      les,
      [...les].sort((a, b) => a - b),
      `${what}: le ascending`,
    );
    assert.equal(les.at(-1), Infinity, `${what}: the last bucket is +Inf`);
    for (let i = 1; i < buckets.length; i++)
      assert.ok(buckets[i].value >= buckets[i - 1].value, `${what}: cumulative at le=${buckets[i].labels.le}`);
    const count = value(expo, 'myrpc_server_call_duration_seconds_count', { service, method });
    assert.equal(buckets.at(-1)?.value, count, `${what}: +Inf == _count`);
    const counted = expo.samples
      .filter((s) => s.name === 'myrpc_server_calls_total' && s.labels.service === service && s.labels.method === method)
      .reduce((n, s) => n + s.value, 0);
    assert.equal(count, counted, `${what}: _count == the calls counted by code`);
    const sum = value(expo, 'myrpc_server_call_duration_seconds_sum', { service, method });
    assert.ok(sum !== undefined && sum >= 0 && (count === 0 ? sum === 0 : true), `${what}: _sum`);
  }
  assert.equal(value(expo, 'myrpc_server_call_duration_seconds_count', { service: 'Calculator', method: 'add' }), 5);
  assert.equal(value(expo, 'myrpc_server_call_duration_seconds_count', { service: 'Calculator', method: 'slowSum' }), 1);
  const slowSumSum = value(expo, 'myrpc_server_call_duration_seconds_sum', { service: 'Calculator', method: 'slowSum' });
  assert.ok(slowSumSum !== undefined && slowSumSum > 0.02, 'a call held ~30 ms is summed in seconds, not ms');
});

test('myrpc_server_calls_in_flight shows a held call and drops back when it answers', async (t) => {
  const { client, held, scrape, server } = await setup(t);
  const inFlight = async (): Promise<number | undefined> =>
    value(await scrape(), 'myrpc_server_calls_in_flight', { service: 'Held', method: 'wait' });
  assert.equal(await inFlight(), 0);
  const call = client.call('Held', 'wait', []);
  await until(() => held.gates.length === 1, 5000, 'the held call to reach its handler');
  assert.equal(await inFlight(), 1);
  assert.equal(server.inFlight, 1);
  held.gates[0].resolve();
  assert.equal(await call, 'done');
  assert.equal(await inFlight(), 0);
});

test('the exposition reader used here unescapes label values and rejects orphan samples and duplicate series', () => {
  const labels = parseLabels('a="x\\"y",b="back\\\\slash",c="line\\nbreak"');
  assert.deepEqual(labels, { a: 'x"y', b: 'back\\slash', c: 'line\nbreak' });
  assert.throws(() => parseExposition('orphan_metric 1\n'), /declared by a # TYPE line/);
  assert.throws(() => parseExposition('# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\n'), /appears once/);
});
