import { createHash, timingSafeEqual } from 'node:crypto';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { ServerCallInfo, ServerInterceptor } from './interceptor';

/** The metadata key credentials travel in (over HTTP, the `Authorization` header is copied to it). */
export const AUTHORIZATION_KEY = 'authorization';
export const DEFAULT_AUTH_SCHEMES: readonly string[] = ['Bearer'];

/**
 * Checks a token. Resolve with the caller's principal (any value but `undefined`, `null` or `false`; handlers
 * see it as `ctx.principal`), or with one of those three for an unknown token (`UNAUTHENTICATED`). Throwing an
 * `RpcError` (e.g. `PERMISSION_DENIED`) sends that error.
 */
export type TokenVerifier = (token: string, call: ServerCallInfo) => unknown;

export interface BearerAuthOptions {
  verify: TokenVerifier;
  /** Accepted schemes of `authorization: <scheme> <token>`, case-insensitive. Default `['Bearer']`. */
  schemes?: readonly string[];
  /**
   * Decides, once the caller is known, whether it may make this call; `false` sends `PERMISSION_DENIED`.
   * Default {@link rolesAllowed}: a method whose `meta.roles` lists roles needs a principal with one of them.
   */
  authorize?: (principal: unknown, call: ServerCallInfo) => boolean | Promise<boolean>;
  /** Calls let through without credentials (e.g. health checks). Default none. */
  skip?: (call: ServerCallInfo) => boolean;
}

/**
 * A server interceptor for bearer tokens and API keys in the `authorization` metadata: no or malformed
 * credentials or a token `verify` does not know give `UNAUTHENTICATED`; a known caller that `authorize`
 * refuses gives `PERMISSION_DENIED`. The handler runs only when both pass.
 */
export function bearerAuth(options: BearerAuthOptions): ServerInterceptor {
  if (typeof options?.verify !== 'function') throw new RangeError('bearerAuth: verify must be a function (token, call) => principal');
  const schemes = new Set((options.schemes ?? DEFAULT_AUTH_SCHEMES).map((s) => s.toLowerCase()));
  const authorize = options.authorize ?? rolesAllowed;
  return (next) => async (call) => {
    if (options.skip?.(call)) return next(call);
    const token = tokenOf(call.context.metadata[AUTHORIZATION_KEY], schemes, call);
    const principal: unknown = await options.verify(token, call);
    if (principal === undefined || principal === null || principal === false) {
      throw new RpcError(RpcCode.UNAUTHENTICATED, `${what(call)}: the credentials were not accepted`);
    }
    if (!(await authorize(principal, call))) {
      throw new RpcError(RpcCode.PERMISSION_DENIED, `${what(call)}: the caller may not call this method`);
    }
    call.principal = principal;
    return next(call);
  };
}

function tokenOf(header: string | undefined, schemes: Set<string>, call: ServerCallInfo): string {
  if (header === undefined || header === '') {
    throw new RpcError(RpcCode.UNAUTHENTICATED, `${what(call)}: credentials required (metadata 'authorization: Bearer <token>')`);
  }
  const space = header.indexOf(' ');
  const scheme = space > 0 ? header.slice(0, space).toLowerCase() : '';
  const token = space > 0 ? header.slice(space + 1).trim() : '';
  if (!schemes.has(scheme) || token === '') {
    throw new RpcError(
      RpcCode.UNAUTHENTICATED,
      `${what(call)}: malformed credentials (expected 'authorization: ${[...schemes].join('|')} <token>')`,
    );
  }
  return token;
}

/**
 * The default authorisation: when the method's `meta.roles` is a non-empty array, the principal must have
 * a `roles` array sharing at least one of them; any other method is open to every authenticated caller.
 */
export function rolesAllowed(principal: unknown, call: ServerCallInfo): boolean {
  const needed = call.meta.roles;
  if (!Array.isArray(needed) || needed.length === 0) return true;
  const held = (principal as { roles?: unknown } | undefined)?.roles;
  return Array.isArray(held) && held.some((r) => needed.includes(r));
}

/**
 * A `verify` for fixed API keys: `{ [key]: principal }`, e.g. `{ [process.env.ADMIN_KEY]: { roles: ['admin'] } }`.
 * Compares SHA-256 digests in constant time, so the time taken says nothing about how much of a key matched.
 */
export function apiKeys(keys: Readonly<Record<string, unknown>>): TokenVerifier {
  const table = Object.entries(keys).map(([key, principal]) => ({ digest: digest(key), principal }));
  if (table.length === 0) throw new RangeError('apiKeys: give at least one key');
  return (token) => {
    const d = digest(token);
    let found: unknown;
    for (const entry of table) if (timingSafeEqual(entry.digest, d)) found = entry.principal;
    return found;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function what(call: ServerCallInfo): string {
  return `${call.service}.${call.method}`;
}
