/**
 * The etcd discovery backend, imported as `myrpc/etcd`. It needs the optional peer dependency `etcd3`
 * (`npm install etcd3`), which brings gRPC; the core package (`myrpc`) never loads it.
 */
export { EtcdRegistrar, DEFAULT_ETCD_TTL_SECONDS, type EtcdRegistrarOptions, type EtcdRegistrarStats } from './discovery/etcd-registrar';
export {
  EtcdDiscovery,
  DEFAULT_ETCD_REMOVAL_GRACE_MS,
  type EtcdDiscoveryOptions,
  type EtcdDiscoveryEvents,
} from './discovery/etcd-discovery';
export { DEFAULT_ETCD_REQUEST_TIMEOUT_MS, type EtcdConnectionOptions } from './discovery/etcd-client';
export { DEFAULT_ETCD_PREFIX, etcdInstanceKey, etcdServicePrefix, type EtcdInstanceValue } from './discovery/etcd-key-layout';
