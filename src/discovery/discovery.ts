import type { EndpointSource } from '../cluster/endpoint-source';

/**
 * An endpoint source fed by a service registry. It keeps serving its last known list, marked `stale`, while
 * the registry is unreachable, and catches up when the registry returns.
 */
export interface Discovery extends EndpointSource {
  /** True while the registry cannot be reached and the list is the last one known. */
  readonly stale: boolean;
  /** Resolves when the first list has arrived; rejects with `UNAVAILABLE` after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops watching; the list stays as it was. */
  close(): Promise<void>;
}
