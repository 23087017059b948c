import 'reflect-metadata';
import { RpcServer } from 'myrpc';
import { CalculatorService } from './calculator-service';

export async function startCalculatorServer(
  port = 0,
  host = '127.0.0.1',
): Promise<{ server: RpcServer; service: CalculatorService; port: number }> {
  const service = new CalculatorService();
  const server = new RpcServer().register(service);
  const address = await server.listen(port, host);
  return { server, service, port: address.port };
}

// Run directly: `node dist/samples/calculator/server.js [port]`. Prints the port; stops on SIGTERM/SIGINT.
if (require.main === module) {
  void (async () => {
    const { server, port } = await startCalculatorServer(Number(process.argv[2] ?? 0));
    console.log(`calculator server listening on 127.0.0.1:${port}`);
    process.send?.({ port });
    const stop = (): void => void server.close({ graceMs: 2000 }).then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('message', (m) => m === 'stop' && stop());
  })();
}
