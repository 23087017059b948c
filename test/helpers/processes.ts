import { fork, type ChildProcess } from 'node:child_process';
import { RpcServer } from '../../src/index';

export interface Forked {
  child: ChildProcess;
  port: number;
}

/** Forks a compiled script that sends `{ port }` over IPC once it listens; rejects if it exits first or takes 10 s. */
export function forkListening(script: string, args: string[]): Promise<Forked> {
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args.join(' ')} did not start within 10 s`)), 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve({ child, port: m.port });
    });
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
  });
}

/**
 * The child side of {@link forkListening}: when forked with `serve` as its first argument, serves `services` on
 * 127.0.0.1 port 0 and sends `{ port }`. `node --test dist/test/` also runs child scripts as test files: without a
 * parent to report to, this does nothing.
 */
export function serveForParent(services: () => object[]): void {
  if (!process.send || process.argv[2] !== 'serve') return;
  const server = new RpcServer();
  for (const service of services()) server.register(service);
  server.listen(0, '127.0.0.1').then(
    ({ port }) => process.send?.({ port }),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
