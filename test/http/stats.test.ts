import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, RpcClient, RpcCode, RpcError, RpcServer, Service, type DebugSnapshot } from '../../src/index';

@Service('Odd')
class Odd {
  @Method() big(): unknown {
    return 10n; // neither JSON nor the HTTP gateway can encode a BigInt
  }
  @Method() fine(): number {
    return 1;
  }
}

test('regression: a result that cannot be encoded counts as an INTERNAL error in the figures, not a success', async () => {
  const server = new RpcServer().register(new Odd());
  const { port } = await server.listen(0);
  const http = await server.listenHttp(0);
  const client = new RpcClient({ port });
  try {
    await assert.rejects(client.call('Odd', 'big', []), (e: unknown) => RpcError.is(e) && e.code === RpcCode.INTERNAL);
    const res = await fetch(`http://127.0.0.1:${http.port}/rpc/Odd/big`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[]',
    });
    assert.equal(res.status, 500);
    assert.equal(await client.call('Odd', 'fine', []), 1);
    const snapshot = (await (await fetch(`http://127.0.0.1:${http.port}/debug/myrpc/stats.json`)).json()) as DebugSnapshot;
    const big = snapshot.methods.find((m) => m.method === 'big');
    const fine = snapshot.methods.find((m) => m.method === 'fine');
    assert.deepEqual([big?.calls, big?.errors, big?.codes], [2, 2, { INTERNAL: 2 }]);
    assert.deepEqual([fine?.calls, fine?.errors], [1, 0]);
  } finally {
    await client.close();
    await server.close({ graceMs: 0 });
  }
});
