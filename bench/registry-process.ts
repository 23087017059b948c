// Child of bench/registry.ts: a built-in registry on 127.0.0.1, port 0, that holds up to argv[2] entries per
// service; reports its port over IPC and exits with its parent.
import 'reflect-metadata';
import { startRegistry } from '../src/index';

async function main(): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  const maxEntriesPerService = Number(process.argv[2]);
  const { port } = await startRegistry(0, '127.0.0.1', { maxEntriesPerService, warmupMs: 0 });
  process.send?.({ port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
