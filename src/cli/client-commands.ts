import { RpcClient } from '../client/rpc-client';
import type { Codec } from '../codec/codec';
import { codecs } from '../codec/codec-registry';
import { parseRegistryAddress } from '../discovery/registry-address';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { ServiceDescription } from '../server/describe-service';
import { intFlag, stringFlag, UsageError, type ParsedArgs } from './args';
import { tlsFromFlags, TLS_FLAGS_HELP } from './tls-flags';

/** Exit codes of the client commands. */
export const EXIT = { OK: 0, CALL_FAILED: 1, USAGE: 2, UNREACHABLE: 3, DEADLINE: 4 } as const;

const COMMON = `  --timeout MS   deadline for the call (default 10000)
  --codec NAME   json (default) or msgpack
${TLS_FLAGS_HELP}`;

export const LIST_HELP = `myrpc list <host:port> [--timeout MS]

Lists the services a MyRPC server serves, with their methods (asks its built-in MyRpcDescribe service).
${COMMON}`;

export const DESCRIBE_HELP = `myrpc describe <host:port> <Service> [--json]

Shows a service's methods: parameter types (JSON Schema for DTO classes), shard key, timeouts, idempotency.
  --json         print the full description as JSON
${COMMON}`;

export const CALL_HELP = `myrpc call <host:port> <Service.method> '<json array of arguments>' [--timeout MS] [--metadata k=v,k2=v2]

Calls one method and prints its JSON result. On failure prints CODE: message and any details.
Exit codes: 0 ok, 1 the call failed, 2 usage error, 3 server unreachable, 4 deadline exceeded.
  --metadata     string metadata sent with the call
${COMMON}`;

async function withClient<T>(args: ParsedArgs, address: string | undefined, run: (client: RpcClient, timeoutMs: number) => Promise<T>): Promise<T> {
  if (!address) throw new UsageError('missing <host:port>');
  let target: { host: string; port: number };
  try {
    target = parseRegistryAddress(address);
  } catch (err) {
    throw new UsageError((err as Error).message.replace('registry address', 'address'));
  }
  const timeoutMs = intFlag(args, 'timeout', 10_000);
  const codecName = stringFlag(args, 'codec', 'json');
  let codec: Codec;
  try {
    codec = codecs.resolve(codecName);
  } catch (err) {
    throw new UsageError(`--codec: ${(err as Error).message}`);
  }
  const client = new RpcClient({ ...target, codec, tls: tlsFromFlags(args), connectTimeoutMs: Math.min(timeoutMs, 5000), defaultTimeoutMs: timeoutMs });
  client.on('error', () => undefined);
  try {
    return await run(client, timeoutMs);
  } finally {
    await client.close();
  }
}

export async function listCommand(args: ParsedArgs, out: (line: string) => void): Promise<number> {
  return withClient(args, args.positionals[0], async (client) => {
    const services = (await client.call('MyRpcDescribe', 'services', [])) as { name: string; methods: string[] }[];
    for (const s of services) out(`${s.name}: ${s.methods.join(', ')}`);
    return EXIT.OK;
  });
}

export async function describeCommand(args: ParsedArgs, out: (line: string) => void): Promise<number> {
  const service = args.positionals[1];
  if (!service) throw new UsageError('missing <Service>');
  return withClient(args, args.positionals[0], async (client) => {
    const d = (await client.call('MyRpcDescribe', 'describe', [service])) as ServiceDescription;
    if (args.flags.has('json')) {
      out(JSON.stringify(d, null, 2));
      return EXIT.OK;
    }
    out(`service ${d.name}`);
    for (const m of d.methods) {
      const params = m.params.map((p) => (m.shardKey?.index === p.index ? `@ShardKey${m.shardKey.path ? `('${m.shardKey.path}')` : ''} ${p.type}` : p.type));
      const notes = [m.idempotent ? 'idempotent' : '', m.timeoutMs !== undefined ? `timeout ${m.timeoutMs} ms` : ''].filter(Boolean);
      out(`  ${m.name}(${params.join(', ')})${notes.length ? `  [${notes.join(', ')}]` : ''}`);
    }
    return EXIT.OK;
  });
}

export async function callCommand(args: ParsedArgs, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const [address, target, json = '[]'] = args.positionals;
  const dot = target?.lastIndexOf('.') ?? -1;
  if (!target || dot <= 0 || dot === target.length - 1) throw new UsageError('the method must be written Service.method');
  let callArgs: unknown;
  try {
    callArgs = JSON.parse(json);
  } catch (e) {
    throw new UsageError(`the arguments are not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(callArgs)) throw new UsageError('the arguments must be a JSON array, e.g. \'[2, 3]\'');
  const metadata = parseMetadata(args);
  return withClient(args, address, async (client, timeoutMs) => {
    try {
      const result = await client.call(target.slice(0, dot), target.slice(dot + 1), callArgs as unknown[], { timeoutMs, metadata });
      out(JSON.stringify(result === undefined ? null : result, null, 2));
      return EXIT.OK;
    } catch (e) {
      if (!RpcError.is(e)) throw e;
      err(`${e.code}: ${e.message}`);
      for (const d of e.details) err(`  ${d.path ?? ''} ${d.constraint ?? ''}: ${d.message}`.replace(/^ {2} : /, '  '));
      if (e.code === RpcCode.DEADLINE_EXCEEDED) return EXIT.DEADLINE;
      if (e.code === RpcCode.UNAVAILABLE && !e.mayHaveRun) return EXIT.UNREACHABLE;
      return EXIT.CALL_FAILED;
    }
  });
}

function parseMetadata(args: ParsedArgs): Record<string, string> | undefined {
  const raw = args.flags.get('metadata');
  if (raw === undefined) return undefined;
  if (raw === true) throw new UsageError('--metadata takes k=v pairs');
  const metadata: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--metadata: '${pair}' is not k=v`);
    metadata[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return metadata;
}
