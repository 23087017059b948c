import 'reflect-metadata';
import { Method, Service } from '../src/index';
import { PAYLOADS } from './workloads';

/** One item of the stream benchmark: `{ i }`, or `{ i, s }` with a 1 KiB string for kind `1k`. */
export interface StreamItem {
  i: number;
  s?: string;
}

/** The item `i` of a stream of `kind`: the same objects for every system. */
export function streamItem(kind: string, i: number): StreamItem {
  return kind === '1k' ? { i, s: PAYLOADS['echo-1k'] } : { i };
}

/** The MyRPC side of bench/stream.ts: an endless server stream, ended by the consumer's cancel. */
@Service('StreamBench')
export class StreamBenchService {
  @Method({ params: [String] })
  async *items(kind: string): AsyncGenerator<StreamItem> {
    for (let i = 0; ; i++) yield streamItem(kind, i);
  }
}
