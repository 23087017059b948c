import { timingSafeEqual } from 'node:crypto';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { CallContext } from '../server/call-context';

/** Call metadata that carries the lease token an entry was registered with (renew and deregister need it). */
export const LEASE_TOKEN_METADATA = 'myrpc-lease-token';
/** Call metadata that carries the registry's shared secret, when it has one. */
export const REGISTRY_TOKEN_METADATA = 'myrpc-registry-token';
/** Environment variable read by `RegistryRegistrar` and `myrpc registry` for the shared secret. */
export const REGISTRY_TOKEN_ENV = 'MYRPC_REGISTRY_TOKEN';

export const DEFAULT_MAX_ENTRIES_PER_SERVICE = 1000;
export const DEFAULT_MAX_SERVICES = 1000;
export const MAX_METADATA_ENTRIES = 32;
export const MAX_METADATA_KEY_CHARS = 64;
export const MAX_METADATA_VALUE_CHARS = 256;

/** `UNAUTHENTICATED` unless the call carries the registry's shared secret (when it has one). */
export function checkRegistryToken(expected: string | undefined, ctx: CallContext): void {
  if (expected === undefined) return;
  const given = ctx.metadata[REGISTRY_TOKEN_METADATA] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new RpcError(RpcCode.UNAUTHENTICATED, `this registry needs its token (call metadata '${REGISTRY_TOKEN_METADATA}')`);
  }
}

/** `INVALID_ARGUMENT` for labels past the limits (count, key and value length) or that are not strings. */
export function checkMetadata(metadata: Record<string, unknown>): void {
  const entries = Object.entries(metadata);
  const problems: string[] = [];
  if (entries.length > MAX_METADATA_ENTRIES) problems.push(`at most ${MAX_METADATA_ENTRIES} labels, got ${entries.length}`);
  for (const [key, value] of entries.slice(0, MAX_METADATA_ENTRIES + 1)) {
    if (key.length > MAX_METADATA_KEY_CHARS) problems.push(`label key '${key.slice(0, 20)}…' is over ${MAX_METADATA_KEY_CHARS} characters`);
    if (typeof value !== 'string') problems.push(`label '${key.slice(0, 20)}' must be a string`);
    else if (value.length > MAX_METADATA_VALUE_CHARS)
      problems.push(`label '${key.slice(0, 20)}' is over ${MAX_METADATA_VALUE_CHARS} characters`);
  }
  if (problems.length === 0) return;
  throw new RpcError(RpcCode.INVALID_ARGUMENT, `registration metadata: ${problems[0]}`, {
    details: problems.map((message) => ({ path: 'args[0].metadata', constraint: 'metadataLimits', message })),
  });
}

/** `PERMISSION_DENIED`: the id is held by a live lease whose token the caller did not present. */
export function leaseHeld(service: string, id: string): RpcError {
  return new RpcError(
    RpcCode.PERMISSION_DENIED,
    `${service}/${id} is held by a live lease; present its lease token (call metadata '${LEASE_TOKEN_METADATA}') or wait for it to expire`,
  );
}

export function tooMany(what: string, limit: number): RpcError {
  return new RpcError(RpcCode.RESOURCE_EXHAUSTED, `the registry holds at most ${limit} ${what}`);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
