import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcCode, type RpcClient, type RpcError } from '../../src/index';
import { AddressDto, OrderDto, UserDto } from './fixtures';
import { assertServes, failure, proveUndisturbed, setup, type Harness } from './harness';

/** [path, constraint, message pattern] of one expected detail. */
type Expected = [string, string, RegExp?];

/** Asserts INVALID_ARGUMENT for `where` with exactly one detail per failed constraint. */
function assertInvalid(err: RpcError, where: string, expected: Expected[]): void {
  assert.equal(err.code, RpcCode.INVALID_ARGUMENT, err.message);
  assert.ok(err.message.startsWith(`invalid arguments for ${where}: `), err.message);
  if (expected.length > 1) assert.match(err.message, new RegExp(`\\(and ${expected.length - 1} more\\)$`));
  const actual = err.details.map((d) => `${d.path} ${d.constraint}`).sort();
  assert.deepEqual(actual, expected.map(([path, constraint]) => `${path} ${constraint}`).sort(), JSON.stringify(err.details));
  for (const [path, constraint, pattern] of expected) {
    const detail = err.details.find((d) => d.path === path && d.constraint === constraint);
    assert.ok(detail && detail.message.length > 0, `${path} ${constraint} has a message`);
    if (pattern) assert.match(detail.message, pattern);
  }
  assert.ok(err.message.includes(err.details[0].message), 'the message starts from the first detail');
}

/** Each case is a bad call followed by add(2, 3) on the same client, while another connection has a call in flight. */
async function eachBadCall(h: Harness, cases: [string, unknown[], Expected[]][], client: RpcClient = h.client()): Promise<void> {
  const service = 'Calculator';
  await proveUndisturbed(h, async () => {
    for (const [method, args, expected] of cases) {
      const err = await failure(client.call(service, method, args));
      assertInvalid(err, `${service}.${method}`, expected);
      await assertServes(h, client);
    }
  });
  assert.equal(h.handlerErrors.length, 0, 'bad arguments are not handler errors');
}

describe('bad input: unknown services and methods', () => {
  test('an unknown service is UNIMPLEMENTED, naming it', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const err = await failure(client.call('Calculater', 'add', [2, 3]));
      assert.equal(err.code, RpcCode.UNIMPLEMENTED);
      assert.equal(err.message, "unknown service 'Calculater'");
      await assertServes(h, client);
    });
  });

  test('an unknown method is UNIMPLEMENTED, naming the method and its service', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const err = await failure(client.call('Calculator', 'divide', [6, 3]));
      assert.equal(err.code, RpcCode.UNIMPLEMENTED);
      assert.equal(err.message, "unknown method 'divide' of service 'Calculator'");
      await assertServes(h, client);
    });
  });

  test('members that are not @Methods, and names every object has, are not callable', async (t) => {
    const h = await setup(t);
    const client = h.client();
    for (const [service, method] of [
      ['Calculator', 'release'],
      ['Calculator', 'constructor'],
      ['Calculator', 'toString'],
      ['Calculator', '__proto__'],
      ['Calculator', 'hasOwnProperty'],
      ['__proto__', 'add'],
      ['constructor', 'add'],
      ['', ''],
    ]) {
      const err = await failure(client.call(service, method, []));
      assert.equal(err.code, RpcCode.UNIMPLEMENTED, `${service}.${method}`);
      assert.ok(err.message.includes(`'${service === 'Calculator' ? method : service}'`), err.message);
      await assertServes(h, client);
    }
    assert.equal(h.handlerErrors.length, 0);
  });
});

describe('bad input: argument count and types', () => {
  test('too few, too many and wrongly typed primitive arguments', async (t) => {
    const h = await setup(t);
    await eachBadCall(h, [
      ['add', [2], [['args[1]', 'type', /^args\[1\] must be a number, got undefined$/]]],
      [
        'add',
        [],
        [
          ['args[0]', 'type'],
          ['args[1]', 'type'],
        ],
      ],
      ['add', [2, 3, 4], [['args', 'count', /^Calculator\.add takes 2 argument\(s\), got 3$/]]],
      ['add', ['2', 3], [['args[0]', 'type', /^args\[0\] must be a number, got string "2"$/]]],
      ['add', [{ value: 2 }, 3], [['args[0]', 'type', /^args\[0\] must be a number, got an object$/]]],
      ['add', [null, 3], [['args[0]', 'type', /^args\[0\] must be a number, got null$/]]],
      ['add', [[2], 3], [['args[0]', 'type', /^args\[0\] must be a number, got an array$/]]],
      [
        'add',
        [true, 'x'],
        [
          ['args[0]', 'type', /got boolean true$/],
          ['args[1]', 'type', /got string "x"$/],
        ],
      ],
      [
        'describe',
        [1, 'yes', 'a,b'],
        [
          ['args[0]', 'type', /must be a string, got number 1$/],
          ['args[1]', 'type', /must be a boolean, got string "yes"$/],
          ['args[2]', 'type', /must be an array, got string "a,b"$/],
        ],
      ],
    ]);
  });

  test('a DTO parameter given a non-object', async (t) => {
    const h = await setup(t);
    await eachBadCall(h, [
      ['register', ['bob@example.com'], [['args[0]', 'type', /^args\[0\] must be an object \(UserDto\), got string "bob@example\.com"$/]]],
      ['register', [null], [['args[0]', 'type', /must be an object \(UserDto\), got null$/]]],
      ['register', [[{ email: 'a@b.co', age: 1 }]], [['args[0]', 'type', /must be an object \(UserDto\), got an array$/]]],
      ['register', [], [['args[0]', 'type', /must be an object \(UserDto\), got undefined$/]]],
      ['register', [42], [['args[0]', 'type', /must be an object \(UserDto\), got number 42$/]]],
    ]);
    assert.equal(h.calc.users.length, 0, 'the handler never ran');
  });

  test('numbers the codec can carry but JSON cannot (NaN, Infinity over MessagePack) are refused', async (t) => {
    const h = await setup(t);
    await eachBadCall(
      h,
      [
        ['add', [Number.NaN, 3], [['args[0]', 'type', /^args\[0\] must be a number, got number NaN$/]]],
        ['add', [2, -Infinity], [['args[1]', 'type', /^args\[1\] must be a number, got number -Infinity$/]]],
      ],
      h.client({ codec: 'msgpack' }),
    );
  });

  test('a long string argument is quoted in the message, cut short', async (t) => {
    const h = await setup(t);
    const err = await failure(h.client().call('Calculator', 'add', ['9'.repeat(10_000), 3]));
    assert.equal(err.code, RpcCode.INVALID_ARGUMENT);
    assert.ok(err.message.length < 200, `message of ${err.message.length} chars`);
    await assertServes(h);
  });
});

describe('bad input: failed validation (class-validator)', () => {
  test('one detail per failed constraint, with the property path', async (t) => {
    const h = await setup(t);
    await eachBadCall(h, [
      [
        'register',
        [{ email: 'not-an-email', age: -1 }],
        [
          ['args[0].email', 'isEmail', /email must be an email/],
          ['args[0].age', 'min', /age must not be less than 0/],
        ],
      ],
      [
        'register',
        [{}],
        [
          ['args[0].email', 'isEmail'],
          ['args[0].age', 'isInt'],
          ['args[0].age', 'min'],
        ],
      ],
      ['register', [{ email: 'ann@example.com', age: 1.5 }], [['args[0].age', 'isInt', /age must be an integer number/]]],
      [
        'register',
        [{ email: 42, age: '7' }],
        [
          ['args[0].email', 'isEmail'],
          ['args[0].age', 'isInt'],
          ['args[0].age', 'min'],
        ],
      ],
    ]);
    assert.equal(h.calc.users.length, 0, 'the handler never ran');
  });

  test('nested DTOs (@ValidateNested + @Type) report paths like args[0].address.zip', async (t) => {
    const h = await setup(t);
    await eachBadCall(h, [
      [
        'order',
        [{ address: { zip: '12', city: 'Lyon' }, quantity: 2 }],
        [['args[0].address.zip', 'isLength', /zip must be longer than or equal to 5 characters/]],
      ],
      [
        'order',
        [{ address: { zip: '123456', city: 7 }, quantity: 0 }],
        [
          ['args[0].address.zip', 'isLength'],
          ['args[0].address.city', 'isString'],
          ['args[0].quantity', 'min'],
        ],
      ],
      ['order', [{ address: 'somewhere', quantity: 1 }], [['args[0].address', 'nestedValidation']]],
    ]);
    assert.equal(h.calc.orders.length, 0, 'the handler never ran');
  });

  test('the handler receives real class instances, nested ones included', async (t) => {
    const h = await setup(t);
    const client = h.client();
    assert.equal(await client.call('Calculator', 'register', [{ email: 'ann@example.com', age: 30 }]), 'registered ann@example.com');
    assert.equal(await client.call('Calculator', 'order', [{ address: { zip: '69001', city: 'Lyon' }, quantity: 2 }]), '2 to 69001');
    const [user] = h.calc.users;
    assert.ok(user instanceof UserDto);
    assert.deepEqual({ ...user }, { email: 'ann@example.com', age: 30 });
    const [order] = h.calc.orders as OrderDto[];
    assert.ok(order instanceof OrderDto);
    assert.ok(order.address instanceof AddressDto);
  });

  test('a DTO carrying __proto__ and constructor keys neither pollutes prototypes nor escapes its class', async (t) => {
    const h = await setup(t);
    const client = h.client();
    const payload = JSON.parse(
      '{"email":"eve@example.com","age":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    ) as object;
    const answer = await client.call('Calculator', 'register', [payload]).catch((err: RpcError) => err.code);
    assert.ok(answer === 'registered eve@example.com' || answer === RpcCode.INVALID_ARGUMENT, String(answer));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((UserDto.prototype as unknown as Record<string, unknown>).polluted, undefined);
    for (const user of h.calc.users) assert.ok(user instanceof UserDto);
    await assertServes(h, client);
  });
});
