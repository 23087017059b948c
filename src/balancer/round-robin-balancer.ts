import { firstAllowed, type Balancer, type PickRequest } from './balancer';
import type { Endpoint } from './endpoint';

/** Each endpoint in turn. */
export class RoundRobinBalancer implements Balancer {
  readonly name = 'round-robin';
  private endpoints: readonly Endpoint[] = [];
  private next = 0;

  update(endpoints: readonly Endpoint[]): void {
    this.endpoints = endpoints;
    if (this.next >= endpoints.length) this.next = 0;
  }

  pick(_request: PickRequest, exclude?: ReadonlySet<string>): Endpoint | undefined {
    if (this.endpoints.length === 0) return undefined;
    const e = firstAllowed(this.endpoints, this.next, exclude);
    this.next = (this.next + 1) % this.endpoints.length;
    return e;
  }
}
