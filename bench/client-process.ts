import { exitWithParent, failChild, toParent, type ParentMessage } from './ipc';
import { runClosedLoop } from './closed-loop';
import { openClient } from './systems';
import { callFor, SpreadClient, verify, WORKLOADS, type SystemName } from './workloads';

/**
 * Child: one client of the named system with ONE connection to the server at 127.0.0.1:port (or `connections`
 * clients, calls spread round-robin over them). Checks the answers, warms up on every workload, reports ready,
 * then runs the cells the parent asks for, one at a time.
 */

async function main(): Promise<void> {
  exitWithParent();
  const [system, port, warmupMs] = [process.argv[2] as SystemName, Number(process.argv[3]), Number(process.argv[4])];
  const connections = Math.max(1, Number(process.argv[5] ?? 1));
  const clients = await Promise.all(Array.from({ length: connections }, () => openClient(system, port)));
  const client = clients.length === 1 ? clients[0] : new SpreadClient(clients);
  await verify(client);
  for (const w of WORKLOADS) await runClosedLoop(callFor(client, w.name), 64, warmupMs / WORKLOADS.length, 0, 5000);

  let queue = Promise.resolve();
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'cell') {
      queue = queue
        .then(() => runClosedLoop(callFor(client, msg.workload), msg.inFlight, msg.warmupMs, msg.durationMs, msg.stallMs))
        .then((r) => toParent({ type: 'result', ...r }), failChild);
    } else if (msg.type === 'stop') {
      const forced = setTimeout(() => process.exit(0), 2000);
      client.close().finally(() => {
        clearTimeout(forced);
        process.exit(0);
      });
    }
  });
  toParent({ type: 'ready' });
}

main().catch(failChild);
