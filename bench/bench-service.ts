import 'reflect-metadata';
import { Method, Service } from '../src/index';

/** The MyRPC service under test: the same two methods the raw and gRPC servers implement. */
@Service('Bench')
export class BenchService {
  @Method()
  add(a: number, b: number): number {
    return a + b;
  }

  @Method()
  echo(s: string): string {
    return s;
  }
}
