import { setTimeout as sleep } from 'node:timers/promises';
import { cpuNowUs, exitWithParent, failChild, toParent, type MemoryReport, type ParentMessage } from './ipc';
import { startServer } from './systems';
import type { SystemName } from './workloads';

/** Child: one server of the named system on 127.0.0.1, port 0; reports the port, then answers the parent. */

async function memoryReport(connections: number): Promise<MemoryReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(50);
    }
  }
  await sleep(200);
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external, connections, gcExposed: gc !== undefined };
}

async function main(): Promise<void> {
  exitWithParent();
  const system = process.argv[2] as SystemName;
  const server = await startServer(system);
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'cpu') {
      toParent({ type: 'cpu', cpuUs: cpuNowUs() });
    } else if (msg.type === 'memory') {
      memoryReport(server.connections()).then((r) => toParent({ type: 'memory', ...r }), failChild);
    } else if (msg.type === 'stop') {
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
