// `node dist/bench/ab.js <buildA> <buildB> [--rounds=N] [--seconds=S] [--in-flight=N] [--workload=add|echo-1k] [--cluster]`:
// two builds (their dist/ folders; another commit's build needs a node_modules beside its dist/) back to back,
// alternating A and B round by round, each round a fresh server process and client process over one
// connection. Prints medians of calls/s and of server and client CPU per call: on a busy machine the CPU per
// call is the figure to compare. `--cluster`: B is the same build as A through a ClusterClient over one endpoint.
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from './stats';

interface Figures {
  callsPerSec: number;
  serverCpuUsPerCall: number;
  clientCpuUsPerCall: number;
}

const CHILD = join(__dirname, 'ab-child.js');

function message<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('ab: a child did not answer in time')), timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      res(m as T);
    });
    child.once('exit', (code) => rej(new Error(`ab: a child exited with ${code}`)));
  });
}

async function round(dist: string, kind: string, o: Record<string, string>): Promise<Figures> {
  const server = fork(CHILD, [dist, 'server']);
  try {
    const { port } = await message<{ port: number }>(server, 20_000);
    const client = fork(CHILD, [dist, 'client', String(port), o.seconds, o['in-flight'], o.workload, kind]);
    await message<{ warm: true }>(client, 60_000);
    server.send('cpu');
    const before = await message<{ cpuUs: number }>(server, 5_000);
    const done = await message<{ calls: number; ms: number; cpuUs: number }>(client, 30_000 + Number(o.seconds) * 1000);
    server.send('cpu');
    const after = await message<{ cpuUs: number }>(server, 5_000);
    client.kill();
    return {
      callsPerSec: (done.calls / done.ms) * 1000,
      serverCpuUsPerCall: (after.cpuUs - before.cpuUs) / done.calls,
      clientCpuUsPerCall: done.cpuUs / done.calls,
    };
  } finally {
    server.kill();
  }
}

function summary(name: string, runs: Figures[]): string {
  const m = (f: (x: Figures) => number): number => median(runs.map(f));
  return `${name}: ${Math.round(m((r) => r.callsPerSec)).toLocaleString('en-US')} calls/s, server ${m((r) => r.serverCpuUsPerCall).toFixed(2)} µs/call, client ${m((r) => r.clientCpuUsPerCall).toFixed(2)} µs/call`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const o: Record<string, string> = { rounds: '3', seconds: '3', 'in-flight': '64', workload: 'add' };
  const builds = args.filter((a) => !a.startsWith('--')).map((a) => resolve(a));
  for (const a of args.filter((x) => x.startsWith('--') && x.includes('='))) o[a.slice(2, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
  const cluster = args.includes('--cluster');
  if (builds.length !== (cluster ? 1 : 2)) throw new Error('usage: ab.js <buildA> <buildB> [options], or ab.js <build> --cluster');
  const [a, b] = cluster ? [builds[0], builds[0]] : builds;
  const runs: Figures[][] = [[], []];
  const loads: string[] = [];
  for (let i = 0; i < Number(o.rounds); i++) {
    runs[0].push(await round(a, 'client', o));
    runs[1].push(await round(b, cluster ? 'cluster' : 'client', o));
    loads.push(loadavg()[0].toFixed(1));
  }
  console.log(`${o.workload} @${o['in-flight']}, ${o.rounds} rounds of ${o.seconds} s, 1-minute load ${loads.join(', ')}`);
  console.log(summary(`A ${a}`, runs[0]));
  console.log(summary(cluster ? 'B ClusterClient over one endpoint' : `B ${b}`, runs[1]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
