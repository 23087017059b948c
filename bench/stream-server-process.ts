import { cpuNowUs, exitWithParent, failChild, toParent, type ParentMessage } from './ipc';
import type { StreamSystem } from './stream-consumer';
import { startStreamServer } from './stream-systems';

/** Child of bench/stream.ts: one stream server of the named system on 127.0.0.1, port 0. */
async function main(): Promise<void> {
  exitWithParent();
  const server = await startStreamServer(process.argv[2] as StreamSystem);
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'cpu') toParent({ type: 'cpu', cpuUs: cpuNowUs() });
    else if (msg.type === 'stop') {
      const forced = setTimeout(() => process.exit(0), 2000);
      server.close().finally(() => {
        clearTimeout(forced);
        process.exit(0);
      });
    }
  });
  toParent({ type: 'ready', port: server.port });
}

main().catch(failChild);
