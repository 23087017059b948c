/** One server a cluster client can call. */
export interface Endpoint {
  /** Stable identity, `host:port` unless the source says otherwise. It is what the hash ring hashes. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Relative capacity, > 0; default 1. The weighted and hash balancers honour it. */
  readonly weight: number;
  /** Free-form labels from the source (version, zone, ...). */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface EndpointInit {
  host: string;
  port: number;
  id?: string;
  weight?: number;
  metadata?: Record<string, string>;
}

/**
 * Largest endpoint weight. The registry refuses more (`INVALID_ARGUMENT`), `makeEndpoint` throws a
 * `RangeError`, and etcd discovery caps a larger value found in etcd to it.
 */
export const MAX_ENDPOINT_WEIGHT = 1000;

export function makeEndpoint(init: EndpointInit): Endpoint {
  const weight = init.weight ?? 1;
  if (!(weight > 0 && weight <= MAX_ENDPOINT_WEIGHT))
    throw new RangeError(`endpoint ${init.host}:${init.port}: weight must be a number > 0 and <= ${MAX_ENDPOINT_WEIGHT}, got ${weight}`);
  return Object.freeze({
    id: init.id ?? `${init.host}:${init.port}`,
    host: init.host,
    port: init.port,
    weight,
    metadata: Object.freeze({ ...init.metadata }),
  });
}

/** Load figures the cluster client keeps per endpoint, read by load-aware balancers. */
export interface LoadInfo {
  /** Calls sent to the endpoint and not yet answered. */
  inFlight(endpoint: Endpoint): number;
  /** Exponentially weighted moving average of the endpoint's latency, ms (0 before the first answer). */
  latencyMs(endpoint: Endpoint): number;
}

export const NO_LOAD: LoadInfo = { inFlight: () => 0, latencyMs: () => 0 };
