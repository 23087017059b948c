import { RpcClient } from '../client/rpc-client';
import type { Codec } from '../codec/codec';
import { codecs } from '../codec/codec-registry';
import { parseRegistryAddress } from '../discovery/registry-address';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { ServiceDescription } from '../server/describe-service';
import { intFlag, stringFlag, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import { TLS_FLAGS, tlsFromFlags, TLS_FLAGS_HELP } from './tls-flags';

/** Exit codes of the client commands. */
export const EXIT = { OK: 0, CALL_FAILED: 1, USAGE: 2, UNREACHABLE: 3, DEADLINE: 4 } as const;

/** The longest the connection may take to open (and to answer the preface), ms; less when --timeout is less. */
export const DEFAULT_CONNECT_LIMIT_MS = 5000;

const CLIENT_FLAGS: FlagSpecs = { timeout: { type: 'string' }, codec: { type: 'string' }, ...TLS_FLAGS };
export const LIST_FLAGS: FlagSpecs = CLIENT_FLAGS;
export const DESCRIBE_FLAGS: FlagSpecs = { ...CLIENT_FLAGS, json: { type: 'boolean' } };
export const CALL_FLAGS: FlagSpecs = { ...CLIENT_FLAGS, metadata: { type: 'string' } };

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

async function withClient<T>(
  args: ParsedArgs,
  address: string | undefined,
  run: (client: RpcClient, timeoutMs: number) => Promise<T>,
): Promise<T> {
  if (!address) throw new UsageError('missing <host:port>');
  let target: { host: string; port: number };
  try {
    target = parseRegistryAddress(address);
  } catch (err) {
    throw new UsageError((err as Error).message.replace('registry address', 'address'));
  }
  const timeoutMs = intFlag(args, 'timeout', 10_000);
  if (timeoutMs < 1) throw new UsageError('--timeout must be at least 1 ms');
  const codecName = stringFlag(args, 'codec', 'json');
  let codec: Codec;
  try {
    codec = codecs.resolve(codecName);
  } catch (err) {
    throw new UsageError(`--codec: ${(err as Error).message}`);
  }
  const startedAt = Date.now();
  const connectMs = Math.min(timeoutMs, DEFAULT_CONNECT_LIMIT_MS);
  const client = new RpcClient({
    ...target,
    codec,
    tls: tlsFromFlags(args),
    connectTimeoutMs: connectMs,
    handshakeTimeoutMs: connectMs,
    defaultTimeoutMs: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    // Connecting first, under its own limit, keeps a peer that never answers the preface an unreachable server
    // (exit 3) rather than a deadline (exit 4) when --timeout is short.
    await connectOrUnreachable(client, address);
    // --timeout counts from the start, connecting included, as a caller waiting on the command sees it.
    return await run(client, Math.max(1, timeoutMs - (Date.now() - startedAt)));
  } finally {
    await client.close();
  }
}

async function connectOrUnreachable(client: RpcClient, address: string): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    if (RpcError.is(err) && err.code === RpcCode.UNAVAILABLE) throw err;
    throw new RpcError(RpcCode.UNAVAILABLE, `cannot connect to ${address}: ${(err as Error).message}`);
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
      const params = m.params.map((p) =>
        m.shardKey?.index === p.index ? `@ShardKey${m.shardKey.path ? `('${m.shardKey.path}')` : ''} ${p.type}` : p.type,
      );
      const notes = [
        m.kind !== undefined && m.kind !== 'unary' ? `${m.kind} stream` : '',
        m.idempotent ? 'idempotent' : '',
        m.timeoutMs !== undefined ? `timeout ${m.timeoutMs} ms` : '',
      ].filter(Boolean);
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
  if (!Array.isArray(callArgs)) throw new UsageError("the arguments must be a JSON array, e.g. '[2, 3]'");
  const metadata = parseMetadata(args);
  try {
    return await withClient(args, address, async (client, timeoutMs) => {
      const result = await client.call(target.slice(0, dot), target.slice(dot + 1), callArgs as unknown[], { timeoutMs, metadata });
      out(JSON.stringify(result === undefined ? null : result, null, 2));
      return EXIT.OK;
    });
  } catch (e) {
    if (!RpcError.is(e)) throw e;
    return printCallError(e, err);
  }
}

/** Prints `CODE: message` and one line per detail; returns the exit code for the error. */
function printCallError(e: RpcError, err: (line: string) => void): number {
  err(`${e.code}: ${e.message}`);
  for (const d of e.details) err(`  ${d.path ?? ''} ${d.constraint ?? ''}: ${d.message}`.replace(/^ {2} : /, '  '));
  if (e.code === RpcCode.DEADLINE_EXCEEDED) return EXIT.DEADLINE;
  if (e.code === RpcCode.UNAVAILABLE && !e.mayHaveRun) return EXIT.UNREACHABLE;
  return EXIT.CALL_FAILED;
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
