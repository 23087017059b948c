// `npm run demo`: the calculator server in its own process, the client in this one, then a clean stop.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { runCalculatorClient } from './client';

async function main(): Promise<void> {
  const child = fork(join(__dirname, 'server.js'), ['0'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 10 s')), 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`server exited early with code ${code}`)));
  });
  try {
    await runCalculatorClient(port);
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  console.log('demo finished');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
