import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcCode, type RpcError } from '../../src/index';
import { SECRET } from './fixtures';
import { assertServes, failure, proveUndisturbed, setup, until } from './harness';

/** Nothing of the handler's internals on the wire: no secret, no stack, no error class name. */
function assertNoLeak(err: RpcError): void {
  const wire = JSON.stringify(err.toWire());
  assert.ok(!wire.includes(SECRET), `the secret leaked: ${wire}`);
  assert.ok(!/\n\s+at |\.js:\d+|\.ts:\d+/.test(wire), `a stack leaked: ${wire}`);
  assert.ok(!wire.includes('Error:'), `an error name leaked: ${wire}`);
}

describe('bad handlers: thrown errors', () => {
  for (const method of ['leak', 'leakAsync']) {
    test(`a handler that throws a plain Error (${method}): INTERNAL without the secret or a stack; handlerError has the original`, async (t) => {
      const h = await setup(t);
      const client = h.client();
      await proveUndisturbed(h, async () => {
        const err = await failure(client.call('Faulty', method, []));
        assert.equal(err.code, RpcCode.INTERNAL);
        assert.equal(err.message, 'internal error');
        assert.deepEqual(err.details, []);
        assertNoLeak(err);
        await until(() => h.handlerErrors.length === 1, 'the handlerError event');
        const [{ err: original, service, method: m }] = h.handlerErrors;
        assert.ok(original instanceof Error);
        assert.equal(original.message, `db password is ${SECRET}`);
        assert.equal(service, 'Faulty');
        assert.equal(m, method);
        await assertServes(h, client);
      });
    });
  }

  test('a handler that throws RpcError(NOT_FOUND) keeps its code, message and details; no handlerError', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const err = await failure(client.call('Faulty', 'notFound', [42]));
      assert.equal(err.code, RpcCode.NOT_FOUND);
      assert.equal(err.message, 'user 42 not found');
      assert.deepEqual(err.details, [{ path: 'args[0]', constraint: 'exists', message: 'no user with id 42' }]);
      assert.equal(err.retryable, false);
      await assertServes(h, client);
    });
    assert.equal(h.handlerErrors.length, 0);
  });

  test('a handler that rejects with a string: INTERNAL without the string; handlerError has it', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const err = await failure(client.call('Faulty', 'rejectString', []));
      assert.equal(err.code, RpcCode.INTERNAL);
      assertNoLeak(err);
      await until(() => h.handlerErrors.length === 1, 'the handlerError event');
      assert.equal(h.handlerErrors[0].err, `the ${SECRET} string`);
      await assertServes(h, client);
    });
  });

  test('a handler that throws undefined: INTERNAL', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const err = await failure(client.call('Faulty', 'throwUndefined', []));
      assert.equal(err.code, RpcCode.INTERNAL);
      assert.equal(err.message, 'internal error');
      await until(() => h.handlerErrors.length === 1, 'the handlerError event');
      assert.equal(h.handlerErrors[0].err, undefined);
      await assertServes(h, client);
    });
  });

  test('an RpcError whose details the codec cannot encode keeps its code and message', async (t) => {
    const h = await setup(t);
    const client = h.client();
    await proveUndisturbed(h, async () => {
      const err = await failure(client.call('Faulty', 'unencodableDetails', []));
      assert.equal(err.code, RpcCode.NOT_FOUND);
      assert.match(err.message, /^nothing here/);
      await assertServes(h, client);
    });
  });
});

describe('bad handlers: results that cannot be encoded', () => {
  for (const codec of ['json', 'msgpack']) {
    for (const [method, what] of [
      ['bigint', 'a BigInt'],
      ['circular', 'a circular plain object'],
      ['circularClass', 'a circular class instance'],
      ['circularClassAsync', 'a circular class instance, asynchronously'],
      ['fn', 'a function'],
    ]) {
      test(`${what} (${codec}): INTERNAL "could not be encoded", and the server serves on`, async (t) => {
        const h = await setup(t);
        const client = h.client({ codec });
        await proveUndisturbed(h, async () => {
          const err = await failure(client.call('Faulty', method, []));
          assert.equal(err.code, RpcCode.INTERNAL);
          assert.match(err.message, /the result could not be encoded/);
          assertNoLeak(err);
          await assertServes(h, client);
        });
      });
    }
  }
});

describe('class-typed results go out as plain data', () => {
  for (const codec of ['json', 'msgpack']) {
    test(`a class instance honours @Exclude and @Expose getters (${codec})`, async (t) => {
      const h = await setup(t);
      const client = h.client({ codec });
      assert.deepEqual(await client.call('Faulty', 'account', []), { id: 7, label: 'account #7' });
    });

    test(`an array of class instances honours @Exclude too (${codec})`, async (t) => {
      const h = await setup(t);
      const client = h.client({ codec });
      assert.deepEqual(await client.call('Faulty', 'accounts', []), [
        { id: 1, label: 'account #1' },
        { id: 2, label: 'account #2' },
      ]);
    });

    test(`class instances inside a plain object honour @Exclude too (${codec})`, async (t) => {
      const h = await setup(t);
      const client = h.client({ codec });
      const page = (await client.call('Faulty', 'page', [])) as { items: unknown[]; total: number; at: unknown };
      assert.deepEqual(page.items, [{ id: 3, label: 'account #3' }]);
      assert.equal(page.total, 1);
      assert.ok(!JSON.stringify(page).includes('bcrypt'), JSON.stringify(page));
    });
  }
});
