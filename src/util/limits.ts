/**
 * The defaults of every flow-control limit, in one place (docs/LIMITS.md lists them with their options).
 * Timeouts and limits named here are per connection unless their name says otherwise.
 */

/** Server: a peer that has not sent its preface by then is dropped. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Server: upper bound on any handler's run time. */
export const DEFAULT_HANDLE_TIMEOUT_MS = 60_000;
/** Server: see {@link MIN_WRITE_PROGRESS_BYTES}. */
export const DEFAULT_WRITE_TIMEOUT_MS = 10_000;
/** Server: how long in-flight calls may run on after `close()`. */
export const DEFAULT_GRACE_MS = 5_000;
/** Client: deadline of a call that sets none. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_CLIENT_HANDSHAKE_TIMEOUT_MS = 5_000;
export const DEFAULT_CLIENT_WRITE_TIMEOUT_MS = 10_000;

/** Default cap on one frame's payload: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Smallest `maxFrameBytes` a server or client may be configured with. */
export const MIN_MAX_FRAME_BYTES = 1024;
/** Largest `maxFrameBytes`: the preface carries it as a u32. */
export const MAX_MAX_FRAME_BYTES = 0xffffffff;
/**
 * Smallest `maxFrameBytes` a peer may announce in its preface. Below it the server refuses the preface
 * (status 4): an ERROR frame carrying only the longest code (`{"code":"FAILED_PRECONDITION"}`, 30 bytes)
 * must always fit.
 */
export const MIN_PEER_FRAME_BYTES = 64;

/** Output queued for one connection (socket buffer and unflushed frames) above which it stops being read. */
export const DEFAULT_OUTPUT_HIGH_WATER_BYTES = 2 * 1024 * 1024;
/** Calls running at once on one server connection; more wait (unread) in the socket. */
export const DEFAULT_MAX_CONCURRENT_CALLS = 100;
/** Server-wide cap on bytes held in incomplete frames and queued output, over all connections. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Under a full server-wide budget, a connection holding at most this much input and output is still read. */
export const BUDGET_FREE_BYTES = 64 * 1024;
/** An incomplete frame that receives no byte for this long drops its connection. */
export const DEFAULT_FRAME_STALL_TIMEOUT_MS = 10_000;
/**
 * The write timeout measures progress: within each `writeTimeoutMs`, the peer must take at least this many
 * bytes of what is queued for it (or all of it, when less is queued).
 */
export const MIN_WRITE_PROGRESS_BYTES = 64 * 1024;
/** A connection that has received nothing for this long is sent a PING. 0 turns keepalive off. */
export const DEFAULT_KEEPALIVE_MS = 30_000;
/** A PING unanswered (no byte at all received) for this long closes the connection. */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
/** Server connections with no call for this long are closed with GOAWAY. 0 (the default) means never. */
export const DEFAULT_IDLE_TIMEOUT_MS = 0;
/** Deepest nesting of arrays and objects accepted in a decoded argument. */
export const MAX_ARGUMENT_DEPTH = 100;
/** Longest service or method name echoed back in an error message, characters. */
export const MAX_ECHOED_NAME_CHARS = 128;
