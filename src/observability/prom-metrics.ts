import type { MetricFamily, MetricSample } from '../http/metrics';

/** The part of prom-client's `Registry` used here (prom-client 14 and 15); MyRPC does not load prom-client itself. */
export interface PromRegistryLike {
  registerMetric(metric: never): void;
  removeSingleMetric(name: string): void;
}

/** Where the figures come from: an `RpcServer`, or anything that reports the same families. */
export interface MetricFamilySource {
  metricFamilies(): MetricFamily[];
}

export interface PromMetricsOptions {
  /** Labels added to every MyRPC sample, e.g. `{ server: 'kv0' }`. Default none. */
  labels?: Readonly<Record<string, string>>;
}

/** What prom-client's registry reads from a metric: `name`, `help`, `type`, `aggregator` and `get()`. */
interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricFamily['type'];
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: MetricFamily['type']; aggregator: 'sum'; values: MetricSample[] }>;
}

/**
 * Puts the server's metrics (the families of `/metrics`: `myrpc_server_calls_total`, the call duration
 * histogram, calls in flight, connections, start time, open streams and stream items) into a prom-client
 * registry, read at each scrape.
 * Returns a function that removes them again. Throws if the registry already has a metric of the same name.
 */
export function registerPromMetrics(source: MetricFamilySource, registry: PromRegistryLike, options: PromMetricsOptions = {}): () => void {
  if (typeof registry?.registerMetric !== 'function' || typeof registry.removeSingleMetric !== 'function') {
    throw new TypeError('registerPromMetrics: registry must be a prom-client Registry (registerMetric, removeSingleMetric)');
  }
  const extra = checkLabels(options.labels);
  const names: string[] = [];
  for (const family of source.metricFamilies()) {
    const metric: CollectedMetric = {
      name: family.name,
      help: family.help,
      type: family.type,
      aggregator: 'sum',
      async get() {
        // Read fresh at every scrape; a family absent now (it never is) reports no samples.
        const now = source.metricFamilies().find((f) => f.name === family.name);
        const values = (now?.values ?? []).map((v) => ({ ...v, labels: { ...v.labels, ...extra } }));
        return { name: family.name, help: family.help, type: family.type, aggregator: 'sum', values };
      },
    };
    registry.registerMetric(metric as never);
    names.push(family.name);
  }
  return () => {
    for (const name of names) registry.removeSingleMetric(name);
  };
}

function checkLabels(labels: unknown): Record<string, string> {
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null) throw new RangeError('registerPromMetrics: labels must be an object of strings');
  for (const [k, v] of Object.entries(labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith('__'))
      throw new RangeError(`registerPromMetrics: labels: '${k}' is not a valid label name`);
    if (['service', 'method', 'code', 'le'].includes(k))
      throw new RangeError(`registerPromMetrics: labels: '${k}' is a label MyRPC sets itself`);
    if (typeof v !== 'string') throw new RangeError(`registerPromMetrics: labels.${k} must be a string`);
  }
  return { ...(labels as Record<string, string>) };
}
