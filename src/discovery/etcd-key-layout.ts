import { MAX_ENDPOINT_WEIGHT } from '../balancer/endpoint';
import type { LoadReport, Registration } from './registrar';

/**
 * Where servers live in etcd (docs/ETCD.md):
 *
 *     <prefix>/services/<service>/<instanceId>  →  {"host","port","weight","metadata":{...},"load":{"inFlight","eventLoopDelayMs"}}
 *
 * Each key is attached to its server's lease, so it disappears when the server stops renewing.
 */
export const DEFAULT_ETCD_PREFIX = '/myrpc';

/** The JSON value of one instance key. `load` is there only when the server reports its load. */
export interface EtcdInstanceValue {
  host: string;
  port: number;
  weight: number;
  metadata: Record<string, string>;
  load?: LoadReport;
  /** Written by a server that is shutting down, just before it revokes its lease: clients drop it at once. */
  draining?: true;
}

/** The prefix with no trailing slash (`/myrpc/` and `/myrpc` are the same layout). */
export function normalizeEtcdPrefix(prefix: string = DEFAULT_ETCD_PREFIX): string {
  return prefix.replace(/\/+$/, '');
}

/** The key prefix under which one service's instances live, with its trailing slash (so `kv` never matches `kv2`). */
export function etcdServicePrefix(prefix: string, service: string): string {
  if (service.length === 0 || service.includes('/')) throw new RangeError(`service name '${service}' must be non-empty and contain no '/'`);
  return `${normalizeEtcdPrefix(prefix)}/services/${service}/`;
}

export function etcdInstanceKey(prefix: string, service: string, instanceId: string): string {
  if (instanceId.length === 0) throw new RangeError('instance id must be non-empty');
  return etcdServicePrefix(prefix, service) + instanceId;
}

export function encodeEtcdInstance(registration: Registration, load?: LoadReport, draining = false): string {
  const value: EtcdInstanceValue = {
    host: registration.host,
    port: registration.port,
    weight: registration.weight ?? 1,
    metadata: { ...registration.metadata },
  };
  if (load) value.load = { inFlight: load.inFlight, eventLoopDelayMs: load.eventLoopDelayMs };
  if (draining) value.draining = true;
  return JSON.stringify(value);
}

/** The instance a key's value describes, or `undefined` for a value that is not one (it is then ignored). */
export function decodeEtcdInstance(text: string): EtcdInstanceValue | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const v = raw as Record<string, unknown>;
  const weight = v.weight === undefined ? 1 : v.weight;
  if (typeof v.host !== 'string' || v.host.length === 0) return undefined;
  if (!Number.isInteger(v.port) || (v.port as number) < 1 || (v.port as number) > 65535) return undefined;
  if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight)) return undefined;
  // A weight past the maximum is capped, not refused: the server is still there (see MAX_ENDPOINT_WEIGHT).
  const value: EtcdInstanceValue = {
    host: v.host,
    port: v.port as number,
    weight: Math.min(weight, MAX_ENDPOINT_WEIGHT),
    metadata: stringRecord(v.metadata),
  };
  const load = decodeLoad(v.load);
  if (load) value.load = load;
  if (v.draining === true) value.draining = true;
  return value;
}

function stringRecord(x: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof x !== 'object' || x === null) return out;
  for (const [k, v] of Object.entries(x)) if (typeof v === 'string') out[k] = v;
  return out;
}

function decodeLoad(x: unknown): LoadReport | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const { inFlight, eventLoopDelayMs } = x as Record<string, unknown>;
  if (!isNonNegative(inFlight) || !isNonNegative(eventLoopDelayMs)) return undefined;
  return { inFlight, eventLoopDelayMs };
}

function isNonNegative(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}
