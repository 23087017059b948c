// A server process for the stream memory test: `node stream-child.js serve` serves `Firehose.flood(bytes)`, an
// endless stream of items of that size, and `Firehose.stats()`, what it produced and its heap; reports { port }.
import 'reflect-metadata';
import { Method, Service } from '../../src/index';
import { serveForParent } from '../helpers/processes';

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

serveForParent(() => [new Firehose()]);
