import type { Etcd3, IOptions } from 'etcd3';
import { RpcCode, RpcError } from '../errors/rpc-error';
import { clampDelay, unrefTimer } from '../util/timers';

/** Default deadline of one etcd request (a read, a put, a lease grant or revoke), ms. */
export const DEFAULT_ETCD_REQUEST_TIMEOUT_MS = 5_000;

/** How to reach etcd: `hosts` (a client is made and closed here) or an existing `client` (never closed here). */
export interface EtcdConnectionOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379`. Ignored when `client` is given. */
  hosts?: string | string[];
  /** An `Etcd3` client you made (TLS, auth, your own fault handling); it is left open by `close`/`deregister`. */
  client?: Etcd3;
  /** More options for the client made from `hosts` (credentials, auth, `faultHandling`, `grpcOptions`). */
  etcdOptions?: Omit<IOptions, 'hosts'>;
}

/**
 * gRPC keepalive for clients made here: a registry that stops answering without closing its connections
 * (a frozen process, a dropped network) is noticed within about 15 s, not after TCP's own minutes.
 * etcd refuses pings more often than every 5 s (`--grpc-keepalive-min-time`).
 */
const KEEPALIVE_GRPC_OPTIONS = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 };

/**
 * One etcd client, made on first use so that a program that never uses etcd never loads the `etcd3`
 * package (nor gRPC); `close` closes it only when it was made here.
 */
export class EtcdClientHandle {
  private made: Promise<Etcd3> | undefined;

  constructor(private readonly options: EtcdConnectionOptions) {
    if (!options.client && (options.hosts === undefined || options.hosts.length === 0)) {
      throw new TypeError('etcd: give `hosts` (e.g. http://127.0.0.1:2379) or an Etcd3 `client`');
    }
  }

  /** For messages: where etcd is. */
  get where(): string {
    if (this.options.client) return 'etcd';
    const hosts = this.options.hosts as string | string[];
    return `etcd at ${Array.isArray(hosts) ? hosts.join(',') : hosts}`;
  }

  get(): Promise<Etcd3> {
    if (this.options.client) return Promise.resolve(this.options.client);
    this.made ??= loadAndCreate(this.options);
    return this.made;
  }

  /** Closes the client if it was made here (a later `get` makes a new one); a given client is left as it was. */
  async close(): Promise<void> {
    const made = this.made;
    this.made = undefined;
    if (made) (await made.catch(() => undefined))?.close();
  }
}

/** Failures in a row (that etcd3 deems recoverable) after which requests skip a host for a while. */
const HOST_FAILURES_TO_SKIP = 3;
/** How long a failing host is skipped, ms (etcd3's default is 5 s). */
export const ETCD_HOST_SKIP_MS = 500;

/**
 * The per-host fault policy of clients made here: etcd3's default shape (skip a host after three
 * recoverable failures in a row, so requests go to the others) with a 500 ms pause instead of 5 s, which
 * would hold a registrar back for 5 s after etcd resumes, while its lease is gone. Only `execute` is used
 * by etcd3; a refusal without calling through makes it try the next host.
 */
function hostPolicy(isRecoverable: (err: Error) => boolean): {
  execute<T>(fn: (context: { signal: AbortSignal }) => Promise<T> | T): Promise<T>;
} {
  let failures = 0;
  let skipUntil = 0;
  const signal = new AbortController().signal;
  return {
    async execute(fn) {
      if (Date.now() < skipUntil) throw new Error(`etcd host skipped for ${ETCD_HOST_SKIP_MS} ms after ${HOST_FAILURES_TO_SKIP} failures`);
      try {
        const result = await fn({ signal });
        failures = 0;
        return result;
      } catch (err) {
        if (err instanceof Error && isRecoverable(err) && ++failures >= HOST_FAILURES_TO_SKIP) {
          failures = 0;
          skipUntil = Date.now() + ETCD_HOST_SKIP_MS;
        }
        throw err;
      }
    },
  };
}

async function loadAndCreate(options: EtcdConnectionOptions): Promise<Etcd3> {
  const { Etcd3, isRecoverableError } = await import('etcd3');
  const grpcOptions = { ...KEEPALIVE_GRPC_OPTIONS, ...options.etcdOptions?.grpcOptions };
  const given = options.etcdOptions?.faultHandling;
  const faultHandling = { ...given, host: given?.host ?? ((): never => hostPolicy(isRecoverableError) as never) };
  return new Etcd3({ ...options.etcdOptions, faultHandling, grpcOptions, hosts: options.hosts as string | string[] });
}

/** An etcd failure as the `UNAVAILABLE` error callers of the discovery interfaces see. */
export function etcdUnavailable(where: string, what: string, err: unknown): RpcError {
  const reason = err instanceof Error ? err.message : String(err);
  return new RpcError(RpcCode.UNAVAILABLE, `${where}: ${what} failed: ${reason}`, { mayHaveRun: false, cause: err });
}

/** `promise`, or `undefined` once `ms` have passed: for clean-up steps that must not hang shutdown. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = unrefTimer(setTimeout(() => resolve(undefined), clampDelay(ms)))));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
