// A user's project in standard (TC39) decorator mode: no experimentalDecorators, so no parameter decorators and
// no design:paramtypes. Prints one JSON report of what a client saw. Run by test/toolchains/toolchains.test.ts.
import { z } from 'zod';
import { Method, RpcClient, RpcError, RpcServer, Service, ServiceDefinitionError, type CallContext } from 'myrpc';

const Email = z.object({ to: z.string().email(), subject: z.string().default('(none)') });

/** Records how decorators are called here: standard (TC39) ones get a context object as second argument. */
let decoratorMode = 'none';
function probe(...args: unknown[]): void {
  decoratorMode = typeof args[1] === 'object' && args[1] !== null ? 'standard' : 'legacy';
}

@probe
class Probed {}

@Service('Calc')
class Calc {
  @Method({ params: [Number, Number], idempotent: true })
  add(a: number, b: number): number {
    return a + b;
  }

  @Method({ params: [Email] })
  mail(m: { to: string; subject: string }): string {
    return `${m.to}: ${m.subject}`;
  }

  @Method({ params: [String], context: true, shardKey: 0 })
  hello(name: string, ctx: CallContext): string {
    return `${name} via ${ctx.service}.${ctx.method}`;
  }
}

@Service('Untyped')
class Untyped {
  @Method()
  add(a: number, b: number): number {
    return a + b;
  }
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return RpcError.is(err) ? err.code : String(err);
  }
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = { decoratorMode, probed: Probed.name };
  try {
    new RpcServer().register(new Untyped());
    report.untyped = 'registered';
  } catch (err) {
    report.untyped = err instanceof ServiceDefinitionError ? `ServiceDefinitionError: ${err.message}` : String(err);
  }
  const server = new RpcServer();
  server.register(new Calc());
  const { port } = await server.listen(0, '127.0.0.1');
  const client = new RpcClient({ host: '127.0.0.1', port });
  report.add = await client.call('Calc', 'add', [2, 3]);
  report.addString = await code(client.call('Calc', 'add', ['2', 3]));
  report.mail = await client.call('Calc', 'mail', [{ to: 'ann@example.com' }]);
  report.badMail = await code(client.call('Calc', 'mail', [{ to: 'nope' }]));
  report.hello = await client.call('Calc', 'hello', ['ann']);
  report.afterBadInput = await client.call('Calc', 'add', [1, 1]);
  await client.close();
  await server.close({ graceMs: 100 });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
