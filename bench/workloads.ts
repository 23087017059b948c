/** What is measured: systems, workloads, in-flight levels, and the payloads (same bytes for every system). */

export type SystemName = 'raw' | 'myrpc-json' | 'myrpc-msgpack' | 'grpc' | 'raw-tls' | 'myrpc-tls' | 'myrpc-intercepted' | 'myrpc-cluster';
export const SYSTEMS: readonly SystemName[] = ['raw', 'myrpc-json', 'myrpc-msgpack', 'grpc', 'raw-tls', 'myrpc-tls', 'myrpc-intercepted'];
export const BASELINE: SystemName = 'raw';
/** Systems measured by bench/scale.ts only (not in the main table). */
export const SCALE_SYSTEMS: readonly SystemName[] = ['myrpc-cluster'];

/**
 * The system a system's ratios are taken against: MyRPC over TLS against the raw echo over TLS (so the ratio
 * is MyRPC's own cost, not TLS's); everything else, the raw TCP echo.
 */
export function baselineOf(system: SystemName): SystemName {
  return system === 'myrpc-tls' ? 'raw-tls' : BASELINE;
}

export type WorkloadName = 'add' | 'echo-1k' | 'echo-64k';
export const WORKLOADS: readonly { name: WorkloadName; label: string }[] = [
  { name: 'add', label: 'add(a, b)' },
  { name: 'echo-1k', label: 'echo 1 KiB' },
  { name: 'echo-64k', label: 'echo 64 KiB' },
];
export const IN_FLIGHT_LEVELS: readonly number[] = [1, 64, 256];

/** A flat one-byte string of printable ASCII: byte length = character length, no JSON escaping. */
function asciiString(bytes: number): string {
  return Buffer.alloc(bytes, 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ').toString('latin1');
}

export const PAYLOADS = {
  'echo-1k': asciiString(1024),
  'echo-64k': asciiString(64 * 1024),
} as const;

export const ADD_ARGS: readonly [number, number] = [1234, 5678];

/** Spreads calls round-robin over several clients, each with its own connection. */
export class SpreadClient implements BenchClient {
  private next = 0;

  constructor(private readonly clients: readonly BenchClient[]) {}

  add(a: number, b: number): Promise<number> {
    return this.pick().add(a, b);
  }

  echo(s: string): Promise<string> {
    return this.pick().echo(s);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }

  private pick(): BenchClient {
    const client = this.clients[this.next];
    this.next = (this.next + 1) % this.clients.length;
    return client;
  }
}

/** Every system's client offers these two calls. */
export interface BenchClient {
  add(a: number, b: number): Promise<number>;
  echo(s: string): Promise<string>;
  close(): Promise<void>;
}

/** The call a workload repeats. */
export function callFor(client: BenchClient, workload: WorkloadName): () => Promise<unknown> {
  if (workload === 'add') {
    const [a, b] = ADD_ARGS;
    return () => client.add(a, b);
  }
  const s = PAYLOADS[workload];
  return () => client.echo(s);
}

/** Checks that a system answers correctly before it is measured. */
export async function verify(client: BenchClient): Promise<void> {
  const sum = await client.add(20, 22);
  if (sum !== 42) throw new Error(`add(20, 22) answered ${String(sum)}`);
  for (const s of Object.values(PAYLOADS)) {
    const back = await client.echo(s);
    if (back !== s) throw new Error(`echo of ${s.length} bytes came back as ${typeof back === 'string' ? back.length : typeof back} bytes`);
  }
}

export const LOOPBACK = '127.0.0.1';
