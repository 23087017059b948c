import { RpcCode, RpcError } from '../errors/rpc-error';
import { firstAllowed, type Balancer, type PickRequest } from './balancer';
import type { Endpoint } from './endpoint';
import { murmur3 } from './hash';

/**
 * `murmur3(key) mod N` over the endpoints sorted by id. Here to show, in docs and benchmark, what consistent
 * hashing saves: changing N moves about (N-1)/N of the keys, not 1/N.
 */
export class HashModuloBalancer implements Balancer {
  readonly name = 'hash-modulo';
  private endpoints: readonly Endpoint[] = [];

  update(endpoints: readonly Endpoint[]): void {
    this.endpoints = [...endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  pick(request: PickRequest, exclude?: ReadonlySet<string>): Endpoint | undefined {
    if (request.shardKey === undefined) {
      throw new RpcError(
        RpcCode.INVALID_ARGUMENT,
        `${request.service}.${request.method} has no shard key; the hash-modulo balancer routes only by key`,
        { mayHaveRun: false },
      );
    }
    if (this.endpoints.length === 0) return undefined;
    return firstAllowed(this.endpoints, murmur3(request.shardKey) % this.endpoints.length, exclude);
  }
}
