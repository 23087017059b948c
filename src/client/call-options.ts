/** Per-call options. Reach them through `withOptions(proxy, options)` or `client.call(...)`. */
export interface CallOptions {
  /** Time allowed for the whole call, ms (the client's default applies when neither this nor `deadline` is given). */
  timeoutMs?: number;
  /** Absolute deadline, epoch ms; wins over `timeoutMs`. Pass a handler's `ctx.deadline` on to nested calls. */
  deadline?: number;
  /** Aborting it rejects the call at once with `CANCELLED` and cancels the handler on the server. */
  signal?: AbortSignal;
  /** String metadata for the server (tracing, auth, shard hints). */
  metadata?: Record<string, string>;
}

export function mergeOptions(base: CallOptions | undefined, extra: CallOptions): CallOptions {
  if (!base) return extra;
  const merged: CallOptions = { ...base, ...extra };
  if (base.metadata && extra.metadata) merged.metadata = { ...base.metadata, ...extra.metadata };
  if (extra.timeoutMs !== undefined && extra.deadline === undefined) delete merged.deadline;
  return merged;
}
