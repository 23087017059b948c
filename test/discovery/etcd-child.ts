// A server process for the etcd tests: a sharded-kv server registered in etcd with a 2 s lease.
//   node etcd-child.js <etcdUrl> <name> serve        registers, reports { port, key }, then serves until killed
//   node etcd-child.js <etcdUrl> <name> clean-exit   registers, sees itself through discovery, deregisters and
//                                                    closes everything, then must exit by itself (no timer left)
import 'reflect-metadata';
import { EtcdDiscovery, EtcdRegistrar } from '../../src/etcd';
import { startKvServer } from '../../samples/sharded-kv/server';

export interface ChildReport {
  step: 'registered' | 'seen' | 'closed';
  port: number;
  key: string;
}

async function main(): Promise<void> {
  const [etcdUrl, name, mode] = process.argv.slice(2);
  const { server, port } = await startKvServer(name, 0);
  const registrar = new EtcdRegistrar({ hosts: etcdUrl, ttlSeconds: 2 });
  await registrar.register({ service: 'KeyValue', host: '127.0.0.1', port, id: name }, () => ({
    inFlight: server.inFlight,
    eventLoopDelayMs: 0,
  }));
  const report = (step: ChildReport['step']): void => void process.send?.({ step, port, key: registrar.etcdKey } satisfies ChildReport);
  report('registered');
  if (mode !== 'clean-exit') return;

  const discovery = new EtcdDiscovery({ hosts: etcdUrl, service: 'KeyValue' });
  await discovery.ready(5000);
  if (!discovery.endpoints().some((e) => e.id === name)) throw new Error(`${name} does not see itself`);
  report('seen');
  await registrar.deregister();
  await discovery.close();
  await server.close({ graceMs: 100 });
  report('closed');
  process.disconnect?.();
}

// `node --test dist/test/` runs every file under test/ as a test file: without a parent to report to, do nothing.
if (process.send && process.argv.length >= 5) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
