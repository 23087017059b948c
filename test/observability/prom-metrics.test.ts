import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { Method, registerPromMetrics, renderMetricFamilies, RpcClient, RpcServer, Service } from '../../src/index';

@Service('Calc')
class Calc {
  @Method() add(a: number, b: number): number {
    return a + b;
  }
}

async function served(): Promise<{ server: RpcServer; client: RpcClient; stop(): Promise<void> }> {
  const server = new RpcServer({ describe: false }).register(new Calc());
  const { port } = await server.listen(0, '127.0.0.1');
  const client = new RpcClient({ host: '127.0.0.1', port });
  return { server, client, stop: async () => (await client.close(), await server.close({ graceMs: 100 })) };
}

test("registerPromMetrics puts MyRPC's metrics into a prom-client registry beside the user's own", async (t) => {
  const { server, client, stop } = await served();
  t.after(stop);
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'shop' });
  const mine = new Counter({ name: 'shop_orders_total', help: 'Orders.', registers: [registry] });
  mine.inc(3);
  registerPromMetrics(server, registry, { labels: { server: 'calc0' } });
  await client.call('Calc', 'add', [1, 2]);
  await client.call('Calc', 'add', ['x', 2]).catch(() => undefined);
  const text = await registry.metrics();
  assert.match(text, /^shop_orders_total\{app="shop"\} 3$/m, 'the user metric is still there');
  assert.match(text, /^myrpc_server_calls_total\{service="Calc",method="add",code="OK",server="calc0",app="shop"\} 1$/m);
  assert.match(text, /^myrpc_server_calls_total\{service="Calc",method="add",code="INVALID_ARGUMENT",server="calc0",app="shop"\} 1$/m);
  assert.match(text, /^myrpc_server_call_duration_seconds_bucket\{service="Calc",method="add",le="\+Inf",server="calc0",app="shop"\} 2$/m);
  assert.match(text, /^myrpc_server_call_duration_seconds_count\{service="Calc",method="add",server="calc0",app="shop"\} 2$/m);
  assert.match(text, /^# TYPE myrpc_server_call_duration_seconds histogram$/m);
  assert.match(text, /^myrpc_server_connections\{server="calc0",app="shop"\} 1$/m);
  const json = await registry.getMetricsAsJSON();
  assert.ok(json.some((m) => m.name === 'myrpc_server_calls_in_flight' && String(m.type) === 'gauge'));
});

test('the metrics are read at each scrape, and the returned function removes them', async (t) => {
  const { server, client, stop } = await served();
  t.after(stop);
  const registry = new Registry();
  const remove = registerPromMetrics(server, registry);
  await client.call('Calc', 'add', [1, 2]);
  assert.match(await registry.metrics(), /code="OK"\} 1$/m);
  await client.call('Calc', 'add', [1, 2]);
  assert.match(await registry.metrics(), /code="OK"\} 2$/m);
  assert.throws(() => registerPromMetrics(server, registry), /already been registered/, 'one set of MyRPC metrics per registry');
  remove();
  assert.doesNotMatch(await registry.metrics(), /myrpc_/);
});

test('renderMetricFamilies writes the same text /metrics serves', async (t) => {
  const { server, client, stop } = await served();
  t.after(stop);
  await client.call('Calc', 'add', [1, 2]);
  const http = await server.listenHttp(0, '127.0.0.1');
  const text = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
  const connections = (s: string) => s.replace(/^myrpc_server_connections \d+$/m, '');
  assert.equal(connections(renderMetricFamilies(server.metricFamilies())), connections(text));
});

test('registerPromMetrics refuses a registry that is not one and bad labels, with the option named', () => {
  const server = new RpcServer({ describe: false });
  assert.throws(() => registerPromMetrics(server, {} as never), TypeError);
  const registry = new Registry();
  assert.throws(
    () => registerPromMetrics(server, registry, { labels: { 'bad-name': 'x' } }),
    (e: unknown) => e instanceof RangeError && /labels: 'bad-name'/.test(e.message),
  );
  assert.throws(
    () => registerPromMetrics(server, registry, { labels: { service: 'x' } }),
    (e: unknown) => e instanceof RangeError && /MyRPC sets itself/.test(e.message),
  );
  assert.throws(
    () => registerPromMetrics(server, registry, { labels: { n: 1 as never } }),
    (e: unknown) => e instanceof RangeError && /labels\.n must be a string/.test(e.message),
  );
  assert.equal(registry.getMetricsAsArray().length, 0, 'nothing was registered');
});
