/**
 * The one error class of MyRPC. Every failure a caller can see is an `RpcError` with a `code` from
 * {@link RpcCode} (the gRPC status names), a message and structured `details`.
 */

export const RpcCode = {
  CANCELLED: 'CANCELLED',
  UNKNOWN: 'UNKNOWN',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  RESOURCE_EXHAUSTED: 'RESOURCE_EXHAUSTED',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  ABORTED: 'ABORTED',
  OUT_OF_RANGE: 'OUT_OF_RANGE',
  UNIMPLEMENTED: 'UNIMPLEMENTED',
  INTERNAL: 'INTERNAL',
  UNAVAILABLE: 'UNAVAILABLE',
  DATA_LOSS: 'DATA_LOSS',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
} as const;
export type RpcCode = (typeof RpcCode)[keyof typeof RpcCode];

const KNOWN_CODES = new Set<string>(Object.values(RpcCode));

/** Which named timeout produced a timeout error. */
export type TimeoutKind = 'connect' | 'handshake' | 'write' | 'call' | 'handle' | 'keepalive';

/** One structured detail, e.g. one failed validation constraint. */
export interface RpcErrorDetail {
  /** Where the problem is, e.g. `args[0].email`. */
  path?: string;
  /** The failed rule, e.g. `isEmail`, or `type`. */
  constraint?: string;
  message: string;
  [extra: string]: unknown;
}

export interface RpcErrorOptions {
  details?: RpcErrorDetail[];
  /** For `UNAVAILABLE` after a connection loss: whether the request may already have run on the server. */
  mayHaveRun?: boolean;
  timeout?: TimeoutKind;
  cause?: unknown;
}

/** Codes a client may retry, given the method is safe to run again (or the request was never sent). */
const RETRYABLE = new Set<RpcCode>([RpcCode.UNAVAILABLE, RpcCode.RESOURCE_EXHAUSTED, RpcCode.ABORTED]);

const BRAND = Symbol.for('myrpc.RpcError');

export class RpcError extends Error {
  readonly code: RpcCode;
  readonly details: RpcErrorDetail[];
  readonly mayHaveRun: boolean;
  readonly timeout: TimeoutKind | undefined;

  constructor(code: RpcCode, message: string, options: RpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RpcError';
    this.code = KNOWN_CODES.has(code) ? code : RpcCode.UNKNOWN;
    this.details = options.details ?? [];
    this.mayHaveRun = options.mayHaveRun ?? true;
    this.timeout = options.timeout;
  }

  /** Derived from the code, never set by hand. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** Works across two copies of this package, unlike `instanceof` alone. */
  static is(value: unknown): value is RpcError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** The wire form: code, message, details, timeout; `notRun` only when the server refused before running it. */
  toWire(notRun = false): WireError {
    const wire: WireError = { code: this.code, message: this.message };
    if (this.details.length > 0) wire.details = this.details;
    if (this.timeout !== undefined) wire.timeout = this.timeout;
    if (notRun) wire.notRun = true;
    return wire;
  }

  static fromWire(value: unknown): RpcError {
    if (typeof value !== 'object' || value === null) {
      return new RpcError(RpcCode.INTERNAL, 'malformed error frame from server');
    }
    const w = value as Partial<WireError>;
    const code = typeof w.code === 'string' ? (w.code as RpcCode) : RpcCode.UNKNOWN;
    const message = typeof w.message === 'string' ? w.message : 'error without message';
    const details = Array.isArray(w.details) ? w.details : undefined;
    const timeout = typeof w.timeout === 'string' ? w.timeout : undefined;
    const err = new RpcError(code, message, { details, timeout, mayHaveRun: w.notRun !== true });
    ANSWERS.add(err);
    return err;
  }
}
Object.defineProperty(RpcError.prototype, BRAND, { value: true });

/** Errors decoded from a peer's ERROR frame (see `isPeerAnswer`). A WeakSet keeps RpcError's shape unchanged. */
const ANSWERS = new WeakSet<RpcError>();

/**
 * Whether `err` is an answer a peer sent (an ERROR frame, whatever its code), as opposed to one raised
 * locally (connection refused or lost, a timeout, a cancellation). Health checks use it: an answer proves
 * the peer is reachable.
 */
export function isPeerAnswer(err: unknown): boolean {
  return RpcError.is(err) && ANSWERS.has(err);
}

/** The error object carried in an ERROR frame. */
export interface WireError {
  code: RpcCode;
  message: string;
  details?: RpcErrorDetail[];
  timeout?: TimeoutKind;
  /** Set by a server that refused the request before running any of it (e.g. while shutting down). */
  notRun?: true;
}

/**
 * What a handler's throw becomes on the wire: an `RpcError` keeps its code, message and details; anything
 * else becomes `INTERNAL` with a fixed message, so no internals or stacks leak.
 */
export function toRpcError(err: unknown): RpcError {
  if (RpcError.is(err)) return err;
  return new RpcError(RpcCode.INTERNAL, 'internal error', { cause: err });
}

/**
 * Body for the methods of a contract class (a `@Service` class shared by client and server, whose server
 * implementation extends it and overrides every method). Reaching it means the override is missing.
 */
export function unimplemented(): never {
  throw new RpcError(RpcCode.UNIMPLEMENTED, 'this method is declared by the contract but not implemented by the server');
}
