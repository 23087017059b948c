import { exitWithParent, failChild, toParent, type ParentMessage } from './ipc';
import { openClient } from './systems';
import type { BenchClient, SystemName } from './workloads';

/**
 * Child: opens `count` separate clients (one connection each) to the server at 127.0.0.1:port, makes one call on
 * each, and keeps them open and idle until the parent says stop. Opens in batches so the listen backlog never
 * overflows (an overflow would show as 1 s SYN retries, not as a MyRPC cost).
 */

const BATCH = 100;

async function main(): Promise<void> {
  exitWithParent();
  const [system, port, count] = [process.argv[2] as SystemName, Number(process.argv[3]), Number(process.argv[4])];
  const clients: BenchClient[] = [];
  let failed = 0;
  let firstError: string | undefined;
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - done) }, async () => {
      const client = await openClient(system, port);
      clients.push(client);
      if ((await client.add(1, 2)) !== 3) throw new Error('add(1, 2) !== 3');
    });
    for (const r of await Promise.allSettled(batch)) {
      if (r.status === 'rejected') {
        failed++;
        firstError ??= r.reason instanceof Error ? r.reason.message : String(r.reason);
      }
    }
  }
  process.on('message', (msg: ParentMessage) => {
    if (msg.type !== 'stop') return;
    const forced = setTimeout(() => process.exit(0), 3000);
    Promise.allSettled(clients.map((c) => c.close())).finally(() => {
      clearTimeout(forced);
      process.exit(0);
    });
  });
  toParent({ type: 'opened', opened: count - failed, failed, firstError, rssBytes: process.memoryUsage().rss });
}

main().catch(failChild);
