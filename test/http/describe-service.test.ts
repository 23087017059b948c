import 'reflect-metadata';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'class-transformer';
import { IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { CalculatorService } from '../../samples/calculator/calculator-service';
import { KeyValueService } from '../../samples/sharded-kv/kv-service';
import {
  DESCRIBE_SERVICE,
  Method,
  RpcClient,
  RpcCode,
  RpcServer,
  Service,
  type RpcServerOptions,
  type ServiceDescription,
} from '../../src/index';
import { rejection } from '../helpers/wait';

class ShippingAddress {
  @IsString() @Length(5, 5) zip!: string;
}

class Shipment {
  @ValidateNested() @Type(() => ShippingAddress) address!: ShippingAddress;
  @IsInt() @Min(1) parcels!: number;
}

@Service('Shipping')
class ShippingService {
  @Method() ship(shipment: Shipment): number {
    return shipment.parcels;
  }
}

async function setup(t: TestContext, options: RpcServerOptions = {}) {
  const server = new RpcServer(options)
    .register(new CalculatorService())
    .register(new KeyValueService('x'))
    .register(new ShippingService());
  const { port } = await server.listen(0);
  const client = new RpcClient({ port });
  t.after(async () => {
    await client.close();
    await server.close({ graceMs: 100 });
  });
  const describe = async (service: string): Promise<ServiceDescription> =>
    (await client.call(DESCRIBE_SERVICE, 'describe', [service])) as ServiceDescription;
  return { server, client, port, describe };
}

function method(d: ServiceDescription, name: string) {
  const m = d.methods.find((x) => x.name === name);
  assert.ok(m, `${d.name}.${name} is described`);
  return m;
}

test("MyRpcDescribe.services lists the user's services with their methods, not itself", async (t) => {
  const { client } = await setup(t);
  assert.deepEqual(await client.call(DESCRIBE_SERVICE, 'services', []), [
    { name: 'Calculator', methods: ['add', 'compute', 'slowSum'] },
    { name: 'KeyValue', methods: ['get', 'put', 'increment', 'stats'] },
    { name: 'Shipping', methods: ['ship'] },
  ]);
});

test('describe(Calculator): primitive params, the DTO as JSON Schema from its class-validator rules, options', async (t) => {
  const { describe } = await setup(t);
  const d = await describe('Calculator');
  assert.equal(d.name, 'Calculator');
  assert.deepEqual(method(d, 'add'), {
    name: 'add',
    params: [
      { index: 0, type: 'number', schema: { type: 'number' } },
      { index: 1, type: 'number', schema: { type: 'number' } },
    ],
    idempotent: true,
    kind: 'unary',
  });
  const compute = method(d, 'compute');
  assert.equal(compute.idempotent, false);
  assert.equal(compute.params.length, 1);
  assert.equal(compute.params[0].type, 'Operation');
  assert.deepEqual(compute.params[0].schema, {
    type: 'object',
    properties: {
      op: { type: 'string', enum: ['add', 'sub', 'mul', 'div'] },
      a: { type: 'number' },
      b: { type: 'number' },
      label: { type: 'string', maxLength: 40 },
    },
    required: ['op', 'a', 'b'],
  });
  const slowSum = method(d, 'slowSum');
  assert.equal(slowSum.timeoutMs, 60_000);
  assert.deepEqual(
    slowSum.params.map((p) => p.type),
    ['number', 'number'],
    'the @Ctx parameter is not part of the signature',
  );
});

test('describe(KeyValue): the @ShardKey parameter and path of each sharded method', async (t) => {
  const { describe } = await setup(t);
  const d = await describe('KeyValue');
  assert.deepEqual(method(d, 'get').shardKey, { index: 0, path: '' });
  assert.deepEqual(method(d, 'put').shardKey, { index: 0, path: '' });
  const increment = method(d, 'increment');
  assert.deepEqual(increment.shardKey, { index: 0, path: 'key' });
  assert.equal(increment.params[0].type, 'IncrementRequest');
  assert.deepEqual(increment.params[0].schema, {
    type: 'object',
    properties: {
      key: { type: 'string', minLength: 1, maxLength: 200 },
      by: { type: 'integer', minimum: -1_000_000, maximum: 1_000_000 },
    },
    required: ['key', 'by'],
  });
  assert.equal(method(d, 'stats').shardKey, undefined);
  assert.deepEqual(method(d, 'stats').params, []);
});

test("describe: a nested DTO is carried in the schema's definitions, so the schema stands alone", async (t) => {
  const { describe } = await setup(t);
  const schema = method(await describe('Shipping'), 'ship').params[0].schema as {
    properties: Record<string, unknown>;
    definitions?: Record<string, unknown>;
  };
  assert.deepEqual(schema.properties.address, { $ref: '#/definitions/ShippingAddress' });
  assert.deepEqual(schema.definitions, {
    ShippingAddress: { type: 'object', properties: { zip: { type: 'string', minLength: 5, maxLength: 5 } }, required: ['zip'] },
  });
});

test('describe of an unknown service fails with NOT_FOUND; the describe service does not describe itself', async (t) => {
  const { client } = await setup(t);
  for (const name of ['Nope', DESCRIBE_SERVICE]) {
    const err = await rejection(client.call(DESCRIBE_SERVICE, 'describe', [name]));
    assert.equal(err.code, RpcCode.NOT_FOUND, name);
    assert.match(err.message, new RegExp(`unknown service '${name}'`));
  }
});

test('the describe service answers over HTTP too', async (t) => {
  const { server } = await setup(t);
  const { port } = await server.listenHttp(0);
  const res = await fetch(`http://127.0.0.1:${port}/rpc/${DESCRIBE_SERVICE}/describe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '["Calculator"]',
  });
  assert.equal(res.status, 200);
  assert.deepEqual(
    ((await res.json()) as ServiceDescription).methods.map((m) => m.name),
    ['add', 'compute', 'slowSum'],
  );
});

test('new RpcServer({ describe: false }) does not serve MyRpcDescribe; server.services() never lists it', async (t) => {
  const { client, server } = await setup(t, { describe: false });
  const err = await rejection(client.call(DESCRIBE_SERVICE, 'services', []));
  assert.equal(err.code, RpcCode.UNIMPLEMENTED);
  assert.deepEqual(
    server.services().map((s) => s.name),
    ['Calculator', 'KeyValue', 'Shipping'],
  );
  const withDescribe = new RpcServer().register(new CalculatorService());
  assert.deepEqual(
    withDescribe.services().map((s) => s.name),
    ['Calculator'],
  );
});
