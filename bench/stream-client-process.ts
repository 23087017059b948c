import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuNowUs, exitWithParent, failChild, toParent, type ParentMessage, type StreamRequest, type StreamResult } from './ipc';
import { PAYLOADS } from './workloads';
import type { StreamConsumer, StreamSystem } from './stream-consumer';
import type { StreamItem } from './stream-service';
import { openStreamConsumer } from './stream-systems';

/**
 * Child of bench/stream.ts: one consumer of the named system over ONE connection. For each request it opens one
 * endless stream, lets it run for the warm-up, counts the items that arrive in the window, then cancels it.
 */

function check(item: StreamItem, expected: number, kind: string): void {
  const ok = item.i === expected && (kind !== '1k' || item.s === PAYLOADS['echo-1k']);
  if (!ok) throw new Error(`unexpected item #${expected} of a '${kind}' stream: ${JSON.stringify(item).slice(0, 80)}`);
}

async function measure(consumer: StreamConsumer, req: StreamRequest): Promise<StreamResult> {
  let count = 0;
  let failure: unknown;
  const cpuStart = cpuNowUs();
  const cancel = consumer.open(
    req.kind,
    (item) => {
      if (count < 2) check(item, count, req.kind);
      count++;
    },
    (err) => (failure ??= err),
  );
  await sleep(req.warmupMs);
  const [startCount, startMs] = [count, performance.now()];
  await sleep(req.durationMs);
  const [endCount, endMs] = [count, performance.now()];
  cancel();
  const clientCpuUs = cpuNowUs() - cpuStart;
  if (failure !== undefined) throw failure;
  if (endCount === startCount) throw new Error(`no item of the '${req.kind}' stream arrived in the window`);
  const windowMs = endMs - startMs;
  const items = endCount - startCount;
  return { items, windowMs, itemsPerSec: (items * 1000) / windowMs, totalItems: count, clientCpuUs };
}

async function main(): Promise<void> {
  exitWithParent();
  const [system, port] = [process.argv[2] as StreamSystem, Number(process.argv[3])];
  const consumer = await openStreamConsumer(system, port);
  let queue = Promise.resolve();
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'stream') {
      queue = queue
        .then(() => measure(consumer, msg))
        // A cancelled stream's last items may still be in flight: let them drain before the next one.
        .then(async (r) => (await sleep(50), toParent({ type: 'streamed', ...r })), failChild);
    } else if (msg.type === 'stop') {
      const forced = setTimeout(() => process.exit(0), 2000);
      consumer.close().finally(() => {
        clearTimeout(forced);
        process.exit(0);
      });
    }
  });
  toParent({ type: 'ready' });
}

main().catch(failChild);
