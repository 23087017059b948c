// `npm run demo`: the built-in registry, three sharded key-value servers and a cluster client, each server
// in its own process. Midway one server is stopped: only its keys move, and no call is lost.
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ClusterClient, RegistryDiscovery, RpcError, withOptions } from 'myrpc';
import { KeyValueContract } from '../sharded-kv/contract';
import { KV_SERVICE } from '../sharded-kv/server';

const DIST = join(__dirname, '..', '..');
const KEYS = Array.from({ length: 24 }, (_, i) => `user-${i}`);
const children: ChildProcess[] = [];

function start(script: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 10 s`)), 10_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve({ child, port: m.port });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited early (${code})`)));
  });
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (check()) return true;
  return check();
}

async function main(): Promise<void> {
  const started = Date.now();
  const registry = await start(join(DIST, 'src/cli/main.js'), ['registry', '--port', '0']);
  const registryAddress = `127.0.0.1:${registry.port}`;
  const servers = new Map<string, ChildProcess>();
  for (const name of ['kv0', 'kv1', 'kv2']) {
    servers.set(
      name,
      (await start(join(DIST, 'samples/sharded-kv/server.js'), [name, '0', '--registry', registryAddress, '--ttl', '2000'])).child,
    );
  }
  console.log(`registry on ${registryAddress}; servers kv0, kv1, kv2 registered as '${KV_SERVICE}'`);

  const discovery = new RegistryDiscovery({ registry: registryAddress, service: KV_SERVICE });
  discovery.on('stale', (err) => console.log(`registry unreachable (${err.code}); serving from the last list`));
  await discovery.ready();
  await until(() => discovery.endpoints().length === 3, 5000);
  const cluster = new ClusterClient({ endpoints: discovery, client: { defaultTimeoutMs: 2000 } });
  const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 2000 });
  console.log(
    `discovered ${discovery.endpoints().length} endpoints: ${discovery
      .endpoints()
      .map((e) => `${e.metadata.name}@${e.id}`)
      .join(', ')}`,
  );

  const before = new Map<string, string>();
  for (const key of KEYS) before.set(key, (await kv.put(key, `value of ${key}`)).server);
  console.log('\nshard key -> server (consistent hash of the @ShardKey argument):');
  printByServer(before);

  let sent = 0;
  let answered = 0;
  const failures = new Map<string, number>();
  let running = true;
  const load = Promise.all(
    Array.from({ length: 4 }, async (_, w) => {
      for (let i = w; running; i += 4) {
        sent++;
        try {
          await kv.get(KEYS[i % KEYS.length]);
          answered++;
        } catch (err) {
          const code = RpcError.is(err) ? err.code : 'NOT_AN_RPC_ERROR';
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
      }
    }),
  );

  await new Promise((r) => setTimeout(r, 500));
  const stopping = Date.now();
  console.log('\nstopping kv1 mid-run (SIGTERM: it deregisters, drains its calls, exits) while 4 callers keep going');
  servers.get('kv1')?.kill('SIGTERM');
  await until(() => discovery.endpoints().every((e) => e.metadata.name !== 'kv1'), 10_000);
  console.log(`kv1 left the cluster after ${Date.now() - stopping} ms`);
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await load;

  const after = new Map<string, string>();
  for (const key of KEYS) after.set(key, (await kv.get(key)).server);
  const moved = KEYS.filter((k) => before.get(k) !== after.get(k));
  const stayed = KEYS.filter((k) => before.get(k) !== 'kv1');
  console.log(`\nkeys that moved: ${moved.length}, all of them kv1's: ${moved.every((k) => before.get(k) === 'kv1')}`);
  for (const k of moved) console.log(`  ${k}: kv1 -> ${after.get(k)}`);
  console.log(`keys of kv0 and kv2 still in place: ${stayed.filter((k) => after.get(k) === before.get(k)).length} of ${stayed.length}`);
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const codes = [...failures].map(([c, n]) => `${n} ${c}`).join(', ');
  const lost = sent - answered - failed;
  console.log(
    `calls during the run: ${sent}; answered ${answered}; failed with a clear error ${failed}${failed ? ` (${codes})` : ''}; lost ${lost}`,
  );

  await cluster.close();
  await discovery.close();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  console.log(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (lost !== 0 || !moved.every((k) => before.get(k) === 'kv1') || stayed.some((k) => after.get(k) !== before.get(k)))
    process.exitCode = 1;
}

function printByServer(owners: Map<string, string>): void {
  const byServer = new Map<string, string[]>();
  for (const [key, server] of owners) byServer.set(server, [...(byServer.get(server) ?? []), key]);
  for (const [server, keys] of [...byServer].sort()) console.log(`  ${server}: ${keys.join(' ')}`);
}

const watchdog = setTimeout(() => {
  console.error('demo: took longer than 50 s, giving up');
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, 50_000);
watchdog.unref();

main().catch((err: unknown) => {
  console.error(err);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
});
