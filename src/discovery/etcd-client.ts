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

/**
 * The per-host fault policy of clients made here: none. etcd3's default (a circuit breaker that refuses every
 * request for 5 s after three failures) would hold a registrar back for 5 s after etcd resumes, while its
 * lease is gone; the registrar and discovery have their own backoff. Only `execute` is used by etcd3.
 */
const NO_HOST_POLICY = { execute: <T>(fn: (context: { signal: AbortSignal }) => Promise<T> | T) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })) };

async function loadAndCreate(options: EtcdConnectionOptions): Promise<Etcd3> {
  const { Etcd3 } = await import('etcd3');
  const grpcOptions = { ...KEEPALIVE_GRPC_OPTIONS, ...options.etcdOptions?.grpcOptions };
  const given = options.etcdOptions?.faultHandling;
  const faultHandling = { ...given, host: given?.host ?? ((): never => NO_HOST_POLICY as never) };
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
