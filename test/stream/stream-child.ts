// A server process for the stream memory test: `node stream-child.js serve` serves `Firehose.flood(bytes)`, an
// endless stream of items of that size, and `Firehose.stats()`, what it produced and its heap; reports { port }.
import 'reflect-metadata';
import { Method, RpcServer, Service } from '../../src/index';

@Service('Firehose')
export class Firehose {
  produced = 0;

  @Method() async *flood(itemBytes: number): AsyncGenerator<string> {
    const item = 'x'.repeat(itemBytes);
    for (;;) {
      this.produced++;
      yield item;
    }
  }

  @Method() stats(): { produced: number; heapUsedBytes: number; rssBytes: number } {
    const m = process.memoryUsage();
    return { produced: this.produced, heapUsedBytes: m.heapUsed, rssBytes: m.rss };
  }
}

async function main(): Promise<void> {
  const server = new RpcServer().register(new Firehose());
  const { port } = await server.listen(0, '127.0.0.1');
  process.send?.({ port });
}

// `node --test dist/test/` runs every file under test/ as a test file: without a parent to report to, do nothing.
if (process.send && process.argv[2] === 'serve') {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
