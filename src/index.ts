import 'reflect-metadata';

export { RpcError, RpcCode, toRpcError, unimplemented } from './errors/rpc-error';
export type { RpcErrorDetail, RpcErrorOptions, TimeoutKind, WireError } from './errors/rpc-error';

export { Service } from './decorators/service';
export { Method } from './decorators/method';
export { ShardKey } from './decorators/shard-key';
export { Ctx } from './decorators/ctx';
export type { MethodOptions, AnyClass } from './metadata/metadata-storage';
export type { ServiceDefinition, MethodDefinition, ShardKeyDefinition } from './metadata/service-definition';
export { scanService, ServiceDefinitionError } from './metadata/service-scanner';
export { arrayOf } from './metadata/param-types';
export type { ParamType, ArrayMarker, StandardSchemaV1, StandardSchemaResult, StandardSchemaIssue } from './metadata/param-types';
export type { MethodDecoratorBoth, StandardMemberContext } from './decorators/method';
export type { ServiceDecoratorBoth } from './decorators/service';

export type { Codec } from './codec/codec';
export { CodecRegistry, codecs } from './codec/codec-registry';
export { jsonCodec } from './codec/json-codec';
export { msgpackCodec } from './codec/msgpack-codec';

export { FrameKind, PROTOCOL_VERSION, DEFAULT_MAX_FRAME_BYTES } from './protocol/frame';

export {
  RpcServer,
  DEFAULT_GRACE_MS,
  DEFAULT_HANDLE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_WRITE_TIMEOUT_MS,
} from './server/rpc-server';
export {
  DEFAULT_OUTPUT_HIGH_WATER_BYTES,
  DEFAULT_MAX_CONCURRENT_CALLS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_FRAME_STALL_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  MIN_MAX_FRAME_BYTES,
  MAX_ARGUMENT_DEPTH,
  MIN_WRITE_PROGRESS_BYTES,
} from './util/limits';
export { DEFAULT_STREAM_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_MESSAGES } from './stream/stream-window';
export {
  MAX_STREAM_WINDOW_BYTES,
  MAX_STREAM_WINDOW_MESSAGES,
  MIN_STREAM_WINDOW_BYTES,
  type StreamWindowOptions,
} from './stream/window-options';
export type { StreamKind } from './stream/stream-kind';
export type { RpcServerOptions, ServerEvents, CloseOptions } from './server/rpc-server';
export type { CallContext } from './server/call-context';
export type { PeerIdentity } from './transport/peer-identity';

export { Use } from './interceptors/use';
export { compose } from './interceptors/interceptor';
export type {
  ServerInterceptor,
  ServerNext,
  ServerCallInfo,
  ClientInterceptor,
  ClientNext,
  ClientStreamResult,
  ClientCallInfo,
  CallTransport,
} from './interceptors/interceptor';
export {
  bearerAuth,
  apiKeys,
  rolesAllowed,
  AUTHORIZATION_KEY,
  DEFAULT_AUTH_SCHEMES,
  type BearerAuthOptions,
  type TokenVerifier,
} from './interceptors/auth';
export { mapErrors, type ErrorRule, type ErrorClass } from './interceptors/error-mapping';
export { serverTracing, clientTracing, currentTrace, type TracingOptions, type TracerLike } from './interceptors/tracing';
export { parseTraceparent, formatTraceparent, TRACEPARENT_KEY, type TraceParent } from './interceptors/traceparent';

export { RpcClient, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './client/rpc-client';
export type { RpcClientOptions, ClientEvents } from './client/rpc-client';
export type { CreateConnection, Connector, ConnectTarget } from './transport/connector';
export { tcpConnector, tlsConnector, socketConnector } from './transport/connector';
export { memoryPair, memoryConnector, type StreamAcceptor } from './transport/memory';
export type { TlsServerOptions, TlsClientOptions } from './transport/tls-options';
export type { CallOptions } from './client/call-options';
export { withOptions } from './client/proxy';
export type { ServiceProxy, ClientArgs, StreamArgs, Invoker } from './client/proxy';

export type { Endpoint, EndpointInit, LoadInfo } from './balancer/endpoint';
export { makeEndpoint, MAX_ENDPOINT_WEIGHT } from './balancer/endpoint';
export type { Balancer, BalancerOptions, PickRequest } from './balancer/balancer';
export { BalancerRegistry, balancers, type BalancerFactory } from './balancer/balancers';
export { RandomBalancer } from './balancer/random-balancer';
export { RoundRobinBalancer } from './balancer/round-robin-balancer';
export { WeightedRoundRobinBalancer } from './balancer/weighted-round-robin-balancer';
export { LeastLoadedBalancer } from './balancer/least-loaded-balancer';
export { ConsistentHashBalancer, type ConsistentHashOptions } from './balancer/consistent-hash-balancer';
export { HashModuloBalancer } from './balancer/hash-modulo-balancer';
export { HashRing, DEFAULT_VIRTUAL_NODES, MAX_RING_POINTS } from './balancer/hash-ring';
export { murmur3 } from './balancer/hash';
export { canonicalShardKey, extractShardKey } from './balancer/shard-key';

export {
  ClusterClient,
  DEFAULT_MAX_EJECTION_PERCENT,
  type ClusterClientOptions,
  type ClusterEvents,
  type FailMode,
  type ShardFailover,
} from './cluster/cluster-client';
export type { OutlierDetectionOptions } from './cluster/outlier-detector';
export type { BroadcastProxy, SettledBroadcastProxy, BroadcastOutcome } from './cluster/broadcast';
export { StaticEndpointSource, type EndpointSource } from './cluster/endpoint-source';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type BreakerState,
  type BreakerHooks,
  type FailureKind,
} from './cluster/circuit-breaker';
export { RetryBudget, type RetryBudgetOptions } from './cluster/retry-budget';

export type { Registrar, Registration, LoadReport } from './discovery/registrar';
export type { Discovery } from './discovery/discovery';
export { loadAwareWeight } from './discovery/load-weight';
export { announce, type AnnounceOptions } from './discovery/announce';
export { RegistryServer, startRegistry, DEFAULT_REGISTRY_PORT, type RegistryServerOptions } from './discovery/registry-server';
export {
  RegistryService,
  DEFAULT_REGISTRY_WARMUP_MS,
  type Snapshot,
  type InstanceInfo,
  type RegistryServiceOptions,
  type RegisterAnswer,
} from './discovery/registry-service';
export {
  LEASE_TOKEN_METADATA,
  REGISTRY_TOKEN_METADATA,
  REGISTRY_TOKEN_ENV,
  DEFAULT_MAX_ENTRIES_PER_SERVICE,
  DEFAULT_MAX_SERVICES,
} from './discovery/registry-guard';
export {
  RegistryRegistrar,
  DEFAULT_REGISTRY_TTL_MS,
  DEFAULT_REGISTRY_MIN_RETRY_MS,
  type RegistryRegistrarOptions,
} from './discovery/registry-registrar';
export { RegistryDiscovery, type RegistryDiscoveryOptions } from './discovery/registry-discovery';
export { ListDiscovery, type DiscoveryEvents } from './discovery/list-discovery';
export type { RegistryAddress } from './discovery/registry-address';

export type { Logger } from './observability/logger';
export { silentLogger } from './observability/logger';
export { HTTP_STATUS, httpStatusOf } from './http/status-map';
export { TUNNEL_PATH } from './protocol/tunnel';
export type { DebugSnapshot, MethodSnapshot, ServerFigures, StreamTotals } from './http/debug-snapshot';
export type { MethodKind } from './stream/stream-stats';
export { renderMetricFamilies, type MetricFamily, type MetricSample } from './http/metrics';
export { registerPromMetrics, type PromRegistryLike, type PromMetricsOptions, type MetricFamilySource } from './observability/prom-metrics';
export {
  DescribeService,
  DESCRIBE_SERVICE,
  type ServiceDescription,
  type MethodDescription,
  type ParamDescription,
  type JsonSchema,
} from './server/describe-service';
