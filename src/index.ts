import 'reflect-metadata';

export { RpcError, RpcCode, toRpcError, unimplemented } from './errors/rpc-error';
export type { RpcErrorDetail, RpcErrorOptions, TimeoutKind, WireError } from './errors/rpc-error';

export { Service } from './decorators/service';
export { Method } from './decorators/method';
export { ShardKey } from './decorators/shard-key';
export { Ctx } from './decorators/ctx';
export type { MethodOptions } from './metadata/metadata-storage';
export type { ServiceDefinition, MethodDefinition, ShardKeyDefinition } from './metadata/service-definition';
export { scanService, ServiceDefinitionError } from './metadata/service-scanner';

export type { Codec } from './codec/codec';
export { CodecRegistry, codecs } from './codec/codec-registry';
export { jsonCodec } from './codec/json-codec';
export { msgpackCodec } from './codec/msgpack-codec';

export { FrameKind, PROTOCOL_VERSION, DEFAULT_MAX_FRAME_BYTES } from './protocol/frame';

export { RpcServer, DEFAULT_GRACE_MS, DEFAULT_HANDLE_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_WRITE_TIMEOUT_MS } from './server/rpc-server';
export type { RpcServerOptions, ServerEvents, CloseOptions } from './server/rpc-server';
export type { CallContext } from './server/call-context';

export { RpcClient, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './client/rpc-client';
export type { RpcClientOptions, ClientEvents } from './client/rpc-client';
export type { CreateConnection } from './client/client-connection';
export type { CallOptions } from './client/call-options';
export { withOptions } from './client/proxy';
export type { ServiceProxy, ClientArgs, Invoker } from './client/proxy';
