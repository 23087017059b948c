import 'reflect-metadata';
import { RpcClient, type RpcError, withOptions } from 'myrpc';
import { CalculatorContract, type Operation } from './contract';

/** Runs the sample calls against a server; returns what it printed, line by line. */
export async function runCalculatorClient(port: number, log: (line: string) => void = console.log): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string): void => {
    lines.push(line);
    log(line);
  };
  const client = new RpcClient({ port, defaultTimeoutMs: 5000 });
  const calc = client.proxy(CalculatorContract);
  try {
    say(`add(2, 3) = ${await calc.add(2, 3)}`);
    const r = await calc.compute({ op: 'mul', a: 6, b: 7, label: 'answer' });
    say(`compute(6 mul 7) = ${r.value} (${r.label})`);
    await calc.compute({ op: 'pow', a: 'x', b: 2 } as unknown as Operation).catch((err: RpcError) => {
      say(`compute(bad input) -> ${err.code}: ${err.details.map((d) => `${d.path} ${d.constraint}`).join(', ')}`);
    });
    await calc.compute({ op: 'div', a: 1, b: 0 }).catch((err: RpcError) => say(`compute(1 div 0) -> ${err.code}: ${err.message}`));
    const controller = new AbortController();
    const slow = withOptions(calc, { signal: controller.signal }).slowSum(1000, 10);
    setTimeout(() => controller.abort(), 100);
    await slow.catch((err: RpcError) => say(`slowSum cancelled after 100 ms -> ${err.code}`));
    await withOptions(calc, { timeoutMs: 50 })
      .slowSum(1000, 10)
      .catch((err: RpcError) => say(`slowSum with a 50 ms deadline -> ${err.code} (${err.timeout} timeout)`));
  } finally {
    await client.close();
  }
  return lines;
}

if (require.main === module) {
  const port = Number(process.argv[2]);
  if (!port) {
    console.error('usage: node dist/samples/calculator/client.js <port>');
    process.exit(2);
  }
  runCalculatorClient(port).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
