// A server process for the health tests: `node health-child.js <name> <code|ok>` serves `Answers.work()`,
// which answers with that RpcCode (or its name when `ok`), and `Answers.ping()`; reports { port } over IPC.
import 'reflect-metadata';
import { Method, RpcError, RpcServer, Service, type RpcCode } from '../../src/index';

@Service('Answers')
export class Answers {
  constructor(
    readonly name: string,
    private readonly code: RpcCode | undefined,
  ) {}
  @Method({ idempotent: true }) work(): string {
    if (this.code) throw new RpcError(this.code, `${this.name}: database unavailable`);
    return this.name;
  }
  @Method() ping(): string {
    return this.name;
  }
}

async function main(): Promise<void> {
  const [name, code] = process.argv.slice(2);
  const server = new RpcServer().register(new Answers(name, code === 'ok' ? undefined : (code as RpcCode)));
  const { port } = await server.listen(0, '127.0.0.1');
  process.send?.({ port });
}

// `node --test dist/test/` runs every file under test/ as a test file: without a parent to report to, do nothing.
if (process.send && process.argv.length >= 4) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
