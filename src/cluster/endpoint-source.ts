import { makeEndpoint, type Endpoint, type EndpointInit } from '../balancer/endpoint';

/**
 * Where a cluster client learns its endpoints: a static list, or a service registry (the discovery issue).
 * `subscribe` calls the listener with the whole new list on every change, never synchronously from within
 * `subscribe` itself; it returns the function that unsubscribes.
 */
export interface EndpointSource {
  endpoints(): readonly Endpoint[];
  subscribe(listener: (endpoints: readonly Endpoint[]) => void): () => void;
}

/** A fixed list, changed only by `set` (handy in tests and for hand-managed clusters). */
export class StaticEndpointSource implements EndpointSource {
  private list: readonly Endpoint[];
  private readonly listeners = new Set<(endpoints: readonly Endpoint[]) => void>();

  constructor(endpoints: readonly (Endpoint | EndpointInit)[]) {
    this.list = normalize(endpoints);
  }

  endpoints(): readonly Endpoint[] {
    return this.list;
  }

  subscribe(listener: (endpoints: readonly Endpoint[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces the list and tells every subscriber. */
  set(endpoints: readonly (Endpoint | EndpointInit)[]): void {
    this.list = normalize(endpoints);
    for (const l of [...this.listeners]) l(this.list);
  }
}

function normalize(endpoints: readonly (Endpoint | EndpointInit)[]): readonly Endpoint[] {
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const init of endpoints) {
    const e = makeEndpoint(init);
    if (seen.has(e.id)) throw new Error(`endpoint ${e.id} is listed twice`);
    seen.add(e.id);
    out.push(e);
  }
  return Object.freeze(out);
}
