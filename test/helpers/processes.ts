import { fork, type ChildProcess } from 'node:child_process';

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
