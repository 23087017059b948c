import type { RpcError } from '../errors/rpc-error';
import type { PeerIdentity } from '../transport/peer-identity';

declare const CALL_CONTEXT_BRAND: unique symbol;

/**
 * What a handler can know about its call. Receive it with `@Ctx() ctx: CallContext` as the last parameter;
 * the typed client proxy drops that parameter, so callers never see it.
 */
export interface CallContext {
  readonly [CALL_CONTEXT_BRAND]?: never;
  /** Aborted when the client cancels, the deadline passes, the client disconnects or shutdown's grace ends. */
  readonly signal: AbortSignal;
  /** Absolute deadline, epoch ms. Pass it on to calls this handler makes: `withOptions(p, { deadline })`. */
  readonly deadline: number;
  /** String metadata sent by the client (tracing, auth, shard hints). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The client's address, `host:port`. */
  readonly peer: string;
  /** The client's verified TLS certificate (mTLS): subject and SANs. Undefined without a verified client certificate. */
  readonly peerIdentity: PeerIdentity | undefined;
  /** Who the caller is, as set by an auth interceptor (e.g. what `bearerAuth`'s `verify` returned); else undefined. */
  readonly principal: unknown;
  readonly service: string;
  readonly method: string;
}

/**
 * The server's implementation. The AbortController is made only when a handler reads `signal`, so calls
 * whose handlers never look at it pay nothing for it.
 */
export class ServerCallContext implements CallContext {
  private controller: AbortController | undefined;
  private abortReason: RpcError | undefined;
  principal: unknown = undefined;

  constructor(
    readonly service: string,
    readonly method: string,
    readonly deadline: number,
    readonly metadata: Readonly<Record<string, string>>,
    readonly peer: string,
    readonly peerIdentity: PeerIdentity | undefined = undefined,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  abort(reason: RpcError): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
