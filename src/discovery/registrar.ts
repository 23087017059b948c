/** What a server announces about itself. */
export interface Registration {
  /** The service name clients look up (usually the `@Service` name, or a name for a group of services). */
  service: string;
  host: string;
  port: number;
  /** Unique per server; default `host:port`. */
  id?: string;
  /** Relative capacity, > 0. Default 1. */
  weight?: number;
  /** Labels such as `version` and `zone`. */
  metadata?: Record<string, string>;
}

/** Load a server reports with each renewal (the registry's load-aware weights use it). */
export interface LoadReport {
  /** Calls in flight on the server. */
  inFlight: number;
  /** Event-loop delay, ms (p50 over the last interval). */
  eventLoopDelayMs: number;
}

/**
 * How a server announces itself to a service registry. `register` resolves once the registry has the entry
 * and keeps it alive (heartbeats or lease renewal) until `deregister`; when the registry is unreachable or
 * restarts, it keeps trying and registers again when it can. Neither method throws for a registry that is
 * merely unreachable after the first registration.
 */
export interface Registrar {
  register(registration: Registration, load?: () => LoadReport): Promise<void>;
  /** Removes the entry at once (graceful shutdown) and stops renewing. */
  deregister(): Promise<void>;
}
