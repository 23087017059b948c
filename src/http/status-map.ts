import { RpcCode } from '../errors/rpc-error';

/** The one table from RpcError codes to HTTP statuses (as grpc-gateway maps gRPC codes). */
export const HTTP_STATUS: Readonly<Record<RpcCode, number>> = {
  [RpcCode.CANCELLED]: 499,
  [RpcCode.UNKNOWN]: 500,
  [RpcCode.INVALID_ARGUMENT]: 400,
  [RpcCode.DEADLINE_EXCEEDED]: 504,
  [RpcCode.NOT_FOUND]: 404,
  [RpcCode.ALREADY_EXISTS]: 409,
  [RpcCode.PERMISSION_DENIED]: 403,
  [RpcCode.RESOURCE_EXHAUSTED]: 429,
  [RpcCode.FAILED_PRECONDITION]: 400,
  [RpcCode.ABORTED]: 409,
  [RpcCode.OUT_OF_RANGE]: 400,
  [RpcCode.UNIMPLEMENTED]: 501,
  [RpcCode.INTERNAL]: 500,
  [RpcCode.UNAVAILABLE]: 503,
  [RpcCode.DATA_LOSS]: 500,
  [RpcCode.UNAUTHENTICATED]: 401,
};

export function httpStatusOf(code: RpcCode): number {
  return HTTP_STATUS[code] ?? 500;
}
