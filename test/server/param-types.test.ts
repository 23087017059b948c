import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IsEmail, IsInt, Min } from 'class-validator';
import { z } from 'zod';
import {
  arrayOf,
  DESCRIBE_SERVICE,
  Method,
  RpcCode,
  RpcError,
  Service,
  type CallContext,
  type RpcClient,
  type ServiceDescription,
} from '../../src/index';
import { startServer, type Started } from '../helpers/servers';

class NewUser {
  @IsEmail() email!: string;
  @IsInt() @Min(0) age!: number;
}

/** A DTO with no class-validator rules at all. */
class Point {
  x!: number;
  y!: number;
  norm1(): number {
    return Math.abs(this.x) + Math.abs(this.y);
  }
}

const Money = z.object({ amount: z.number().int().positive(), currency: z.enum(['EUR', 'USD']).default('EUR') });

const seen: unknown[] = [];

@Service('Types')
class TypesService {
  // `unknown` in the signature makes design:paramtypes say Object; params must win.
  @Method({ params: [NewUser] })
  create(user: unknown): string {
    seen.push(user);
    return (user as NewUser).email;
  }
  @Method({ params: [Number, Number] })
  add(a: unknown, b: unknown): number {
    return (a as number) + (b as number);
  }
  @Method({ params: [Date] })
  nextDay(d: Date): Date {
    seen.push(d);
    return new Date(d.getTime() + 86_400_000);
  }
  @Method({ params: [Uint8Array, Date] })
  reverse(bytes: Uint8Array, at: Date): { bytes: Buffer; at: Date } {
    seen.push(bytes);
    return { bytes: Buffer.from(bytes).reverse(), at };
  }
  @Method()
  bytes(n: number): Buffer {
    return Buffer.alloc(n, 7);
  }
  @Method({ params: [Money] })
  pay(m: { amount: number; currency: string }): string {
    return `${m.amount} ${m.currency}`;
  }
  @Method({ params: [arrayOf(NewUser), [Number]] })
  batch(users: NewUser[], weights: number[]): number {
    seen.push(users);
    return users.length + weights.length;
  }
  @Method()
  norm(p: Point): number {
    seen.push(p);
    return p.norm1();
  }
  @Method({ params: [String], context: true, shardKey: 0 })
  whoAmI(name: string, ctx: CallContext): string {
    return `${name}@${ctx.service}.${ctx.method}`;
  }
}

async function invalid(p: Promise<unknown>): Promise<RpcError> {
  const err = await p.then(
    (v) => assert.fail(`resolved with ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  assert.ok(RpcError.is(err), String(err));
  assert.equal(err.code, RpcCode.INVALID_ARGUMENT, err.message);
  return err;
}

for (const codec of ['json', 'msgpack'] as const) {
  describe(`declared parameter types over ${codec}`, () => {
    let started: Started;
    let client: RpcClient;
    before(async () => {
      started = await startServer([new TypesService()]);
      client = started.client({ codec });
    });
    after(() => started.stop());

    test('params wins over design:paramtypes: a DTO is validated and the handler gets an instance', async () => {
      seen.length = 0;
      assert.equal(await client.call('Types', 'create', [{ email: 'a@b.io', age: 3 }]), 'a@b.io');
      assert.ok(seen[0] instanceof NewUser, 'the handler gets a NewUser');
      const err = await invalid(client.call('Types', 'create', [{ email: 'not-an-email', age: 3 }]));
      assert.deepEqual(
        err.details.map((d) => `${d.path} ${d.constraint}`),
        ['args[0].email isEmail'],
      );
      assert.equal(await client.call('Types', 'add', [2, 3]), 5, 'the server goes on serving');
    });

    test('primitive constructors in params refuse other types: add("2", 3) is INVALID_ARGUMENT', async () => {
      const err = await invalid(client.call('Types', 'add', ['2', 3]));
      assert.match(err.details[0].message, /args\[0\] must be a number, got string "2"/);
      assert.equal(await client.call('Types', 'add', [2, 3]), 5);
    });

    test('a Date parameter arrives as a Date and a Date result round-trips', async () => {
      seen.length = 0;
      const day = new Date('2024-02-28T12:00:00.000Z');
      const result = await client.call('Types', 'nextDay', [day]);
      assert.ok(seen[0] instanceof Date && (seen[0] as Date).getTime() === day.getTime());
      // JSON carries a Date as its ISO string; MessagePack as a timestamp, decoded to a Date.
      const expected = '2024-02-29T12:00:00.000Z';
      if (codec === 'json') assert.equal(result, expected);
      else assert.equal((result as Date).toISOString(), expected);
      const err = await invalid(client.call('Types', 'nextDay', ['yesterday']));
      assert.match(err.details[0].message, /must be a date/);
      await invalid(client.call('Types', 'nextDay', ['2024-13-45T99:00:00Z']));
      await invalid(client.call('Types', 'nextDay', [1700000000000]));
    });

    test('bytes are accepted at any position and a Buffer result arrives as bytes (base64 over JSON)', async () => {
      seen.length = 0;
      const at = new Date('2024-01-01T00:00:00.000Z');
      const result = (await client.call('Types', 'reverse', [Buffer.from([1, 2, 3]), at])) as { bytes: unknown; at: unknown };
      assert.ok(Buffer.isBuffer(seen[0]), 'the handler gets a Buffer');
      assert.deepEqual([...(seen[0] as Buffer)], [1, 2, 3]);
      const whole = await client.call('Types', 'bytes', [3]);
      if (codec === 'json') {
        assert.equal(result.bytes, 'AwIB');
        assert.equal(whole, 'BwcH');
      } else {
        assert.ok(result.bytes instanceof Uint8Array, 'a nested Buffer is bytes too');
        assert.deepEqual([...(result.bytes as Uint8Array)], [3, 2, 1]);
        assert.ok(whole instanceof Uint8Array, `a Buffer result is bytes, got ${JSON.stringify(whole)}`);
        assert.deepEqual([...whole], [7, 7, 7]);
      }
      const err = await invalid(client.call('Types', 'reverse', [{ type: 'Buffer', data: 'x' }, at]));
      assert.match(err.details[0].message, /args\[0\] must be a byte array/);
      await invalid(client.call('Types', 'reverse', ['not base64!', at]));
      assert.equal(await client.call('Types', 'add', [1, 1]), 2);
    });

    test('a Standard Schema (zod) validates without decorators and its output reaches the handler', async () => {
      assert.equal(await client.call('Types', 'pay', [{ amount: 5 }]), '5 EUR', 'zod defaults are applied');
      const err = await invalid(client.call('Types', 'pay', [{ amount: -1, currency: 'GBP' }]));
      assert.deepEqual(err.details.map((d) => `${d.path} ${d.constraint}`).sort(), ['args[0].amount zod', 'args[0].currency zod']);
      assert.equal(await client.call('Types', 'add', [2, 2]), 4);
    });

    test('arrayOf(T) and [T] check every element and say which one failed', async () => {
      seen.length = 0;
      assert.equal(await client.call('Types', 'batch', [[{ email: 'a@b.io', age: 1 }], [1, 2]]), 3);
      assert.ok((seen[0] as unknown[])[0] instanceof NewUser);
      const err = await invalid(
        client.call('Types', 'batch', [
          [
            { email: 'a@b.io', age: 1 },
            { email: 'x', age: 1 },
          ],
          [1, 'two'],
        ]),
      );
      assert.deepEqual(err.details.map((d) => d.path).sort(), ['args[0][1].email', 'args[1][1]']);
      await invalid(client.call('Types', 'batch', [{}, []]));
    });

    test('a DTO class without validation rules is transformed, not refused', async () => {
      seen.length = 0;
      assert.equal(await client.call('Types', 'norm', [{ x: -2, y: 3 }]), 5);
      assert.ok(seen[0] instanceof Point);
    });

    test('describe names the declared types: date, bytes, T[], schema:zod', async () => {
      const d = (await client.call(DESCRIBE_SERVICE, 'describe', ['Types'])) as ServiceDescription;
      const types = (name: string) => d.methods.find((m) => m.name === name)?.params.map((p) => p.type);
      assert.deepEqual(types('reverse'), ['bytes', 'date']);
      assert.deepEqual(types('batch'), ['NewUser[]', 'number[]']);
      assert.deepEqual(types('pay'), ['schema:zod']);
      assert.deepEqual(types('whoAmI'), ['string']);
      const batch = d.methods.find((m) => m.name === 'batch')!;
      assert.equal(batch.params[1].schema.type, 'array');
      assert.deepEqual(batch.params[1].schema.items, { type: 'number' });
      assert.deepEqual(d.methods.find((m) => m.name === 'whoAmI')!.shardKey, { index: 0, path: '' });
    });

    test('@Method({ context: true }) passes the call context as the last argument', async () => {
      assert.equal(await client.call('Types', 'whoAmI', ['ann']), 'ann@Types.whoAmI');
      await invalid(client.call('Types', 'whoAmI', ['ann', 'extra']));
    });
  });
}
