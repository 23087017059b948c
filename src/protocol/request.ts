import { RpcCode, RpcError } from '../errors/rpc-error';
import { MAX_ECHOED_NAME_CHARS } from '../util/limits';
import { MAX_TIMER_MS } from '../util/timers';

/** A decoded REQUEST payload. On the wire: `[service, method, args, timeoutMs, metadata?]`. */
export interface RequestMessage {
  service: string;
  method: string;
  args: unknown[];
  /** Time left before the caller's deadline when the request was sent, ms. */
  timeoutMs: number;
  metadata: Record<string, string>;
}

const NO_METADATA: Record<string, string> = Object.freeze({}) as Record<string, string>;

export function encodeRequest(
  service: string,
  method: string,
  args: unknown[],
  timeoutMs: number,
  metadata?: Record<string, string>,
): unknown[] {
  return metadata === undefined ? [service, method, args, timeoutMs] : [service, method, args, timeoutMs, metadata];
}

/** Checks the shape of a decoded REQUEST payload; throws `INVALID_ARGUMENT` saying what is wrong. */
export function parseRequest(value: unknown): RequestMessage {
  if (!Array.isArray(value) || value.length < 4 || value.length > 5) {
    throw malformed('payload must be an array [service, method, args, timeoutMs, metadata?]');
  }
  const [service, method, args, timeoutMs, metadata] = value as unknown[];
  if (typeof service !== 'string' || typeof method !== 'string') throw malformed('service and method must be strings');
  if (!Array.isArray(args)) throw malformed('args must be an array');
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw malformed('timeoutMs must be a number >= 0');
  // Infinity (MessagePack, or a JSON number like 1e999) and anything past the timer maximum mean "no limit", clamped
  // to 2^31-1 ms, so both codecs treat the same value alike.
  const clamped = timeoutMs > MAX_TIMER_MS ? MAX_TIMER_MS : timeoutMs;
  // null (JSON null, MessagePack nil: what a client in another language sends for "none") means no metadata.
  return {
    service,
    method,
    args,
    timeoutMs: clamped,
    metadata: metadata === undefined || metadata === null ? NO_METADATA : checkMetadata(metadata),
  };
}

function checkMetadata(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('metadata must be an object of strings');
  for (const v of Object.values(value)) if (typeof v !== 'string') throw malformed('metadata values must be strings');
  return value as Record<string, string>;
}

function malformed(why: string): RpcError {
  return new RpcError(RpcCode.INVALID_ARGUMENT, `malformed request: ${why}`);
}

/** A peer-chosen name as echoed in an error message: capped, so 8 MiB in does not mean 8 MiB out. */
export function echoedName(name: string): string {
  return name.length <= MAX_ECHOED_NAME_CHARS ? name : `${name.slice(0, MAX_ECHOED_NAME_CHARS)}… (${name.length} characters)`;
}
