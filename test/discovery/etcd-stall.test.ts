import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClient, RpcError, withOptions } from '../../src/index';
import { EtcdDiscovery } from '../../src/etcd';
import { KeyValueContract } from '../../samples/sharded-kv/contract';
import { EtcdProcess, SKIP_WITHOUT_ETCD, eventually } from '../helpers/etcd';
import type { ChildReport } from './etcd-child';

const CHILD = join(__dirname, 'etcd-child.js');
const FREEZE_MS = 10_000; // five times the children's 2 s lease, as a stalled VM might
const CALLERS = 8;

function forkRegistered(etcd: EtcdProcess, name: string): Promise<ChildProcess> {
  const child = fork(CHILD, [etcd.url, name, 'serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`${name} did not register`))), 10_000);
    child.once('message', (_report: ChildReport) => (clearTimeout(timer), resolve(child)));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${name} exited with ${code}`))));
  });
}

test(
  'etcd frozen (SIGSTOP) for longer than the lease, then SIGCONT: zero failed calls, no live server leaves the list',
  { skip: SKIP_WITHOUT_ETCD },
  async () => {
    const etcd = await EtcdProcess.start();
    const children: ChildProcess[] = [];
    const discovery = new EtcdDiscovery({ hosts: etcd.url, service: 'KeyValue', maxRetryMs: 500 });
    let cluster: ClusterClient | undefined;
    try {
      children.push(...(await Promise.all(['kv0', 'kv1', 'kv2'].map((n) => forkRegistered(etcd, n)))));
      await discovery.ready(5000);
      await eventually(() => discovery.endpoints().length === 3, 5000, 'three servers discovered');
      cluster = new ClusterClient({ endpoints: discovery, client: { defaultTimeoutMs: 1500 } });
      const kv = withOptions(cluster.proxy(KeyValueContract), { timeoutMs: 1500 });
      const shortLists: number[] = [];
      discovery.subscribe((list) => list.length < 3 && shortLists.push(list.length));
      let stop = false;
      let answered = 0;
      const errors: string[] = [];
      const caller = async (c: number): Promise<void> => {
        for (let i = 0; !stop && i < 1_000_000; i++) {
          try {
            await (i % 2 === 0 ? kv.get(`key-${c}-${i % 40}`) : kv.put(`key-${c}-${i % 40}`, 'v'));
            answered++;
          } catch (err) {
            errors.push(RpcError.is(err) ? `${err.code}: ${err.message}` : String(err));
          }
        }
      };
      const load = Promise.all(Array.from({ length: CALLERS }, (_, c) => caller(c)));
      await new Promise((r) => setTimeout(r, 300));
      etcd.pause();
      await new Promise((r) => setTimeout(r, FREEZE_MS));
      etcd.resume();
      const resumedAt = Date.now();
      let sawGrace = false;
      const backMs = await eventually(
        async () => {
          sawGrace ||= discovery.pendingRemovals.length > 0;
          const client = await etcd.client();
          try {
            return (
              (await client.getAll().prefix('/myrpc/services/KeyValue/').keys()).length === 3 && discovery.pendingRemovals.length === 0
            );
          } finally {
            client.close();
          }
        },
        15_000,
        'every key back in etcd and no removal pending',
      );
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await load;
      console.log(
        `# etcd frozen ${FREEZE_MS} ms: ${answered} calls answered, ${errors.length} failed; keys back ${Date.now() - resumedAt} ms after SIGCONT (${backMs} ms polled), grace used: ${sawGrace}`,
      );
      assert.deepEqual(errors, [], 'no call failed');
      assert.ok(answered > 100, 'calls ran throughout');
      assert.deepEqual(shortLists, [], 'no live server left the list');
      assert.equal(discovery.endpoints().length, 3);
    } finally {
      await cluster?.close();
      await discovery.close();
      for (const c of children) c.kill('SIGKILL');
      etcd.resume();
      await etcd.dispose();
    }
  },
);
