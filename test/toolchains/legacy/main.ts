// A user's project in legacy decorator mode without design:paramtypes (as tsx, esbuild and vitest compile it):
// prints one JSON report of what a client saw. Run by test/toolchains/toolchains.test.ts.
import 'reflect-metadata';
import { IsEmail, MinLength } from 'class-validator';
import { Method, RpcClient, RpcError, RpcServer, Service, ServiceDefinitionError } from 'myrpc';

class NewUser {
  @IsEmail() email!: string;
  @MinLength(1) name!: string;
}

/** Records how decorators are called here: standard (TC39) ones get a context object as second argument. */
let decoratorMode = 'none';
function probe(...args: unknown[]): void {
  decoratorMode = typeof args[1] === 'object' && args[1] !== null ? 'standard' : 'legacy';
}

@probe
class Probed {}

let handlerGotInstance = false;

@Service('Users')
class UserService {
  @Method({ params: [NewUser] })
  create(user: NewUser): string {
    handlerGotInstance = user instanceof NewUser;
    return user.email;
  }
}

@Service('Untyped')
class UntypedService {
  @Method()
  add(a: number, b: number): number {
    return a + b;
  }
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = {
    decoratorMode,
    probed: Probed.name,
    hasParamTypesMetadata: Reflect.hasMetadata('design:paramtypes', UserService.prototype, 'create'),
  };
  try {
    new RpcServer().register(new UntypedService());
    report.untyped = 'registered';
  } catch (err) {
    report.untyped = err instanceof ServiceDefinitionError ? `ServiceDefinitionError: ${err.message}` : String(err);
  }
  const server = new RpcServer();
  server.register(new UserService());
  const { port } = await server.listen(0, '127.0.0.1');
  const client = new RpcClient({ host: '127.0.0.1', port });
  try {
    await client.call('Users', 'create', [{ email: 'not-an-email', name: 'ann' }]);
    report.badEmail = 'accepted';
  } catch (err) {
    report.badEmail = RpcError.is(err) ? err.code : String(err);
  }
  report.good = await client.call('Users', 'create', [{ email: 'ann@example.com', name: 'ann' }]);
  report.handlerGotInstance = handlerGotInstance;
  await client.close();
  await server.close({ graceMs: 100 });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
