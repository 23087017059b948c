import type { RpcServerOptions } from './rpc-server';
import { DEFAULT_HTTP_MAX_BODY_BYTES } from '../http/http-gateway';
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/frame';
import * as L from '../util/limits';
import { integerLimit, positiveTimeoutMs, timeoutOrZeroMs } from '../util/option-checks';
import type { StreamWindow } from '../stream/stream-window';
import { resolveStreamWindow } from '../stream/window-options';

/** Every timeout and limit of a server, checked (a `RangeError` naming the option) and defaulted. */
export interface ServerLimits {
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly handleTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly outputHighWaterBytes: number;
  readonly maxConcurrentCalls: number;
  readonly maxBufferedBytes: number;
  readonly frameStallTimeoutMs: number;
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly httpMaxBodyBytes: number;
  /** The window granted to the input of each client or bidi stream. */
  readonly streamWindow: StreamWindow;
}

const MAX_BYTES = Number.MAX_SAFE_INTEGER;

export function resolveServerLimits(o: RpcServerOptions): ServerLimits {
  return {
    maxFrameBytes: integerLimit('maxFrameBytes', o.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, L.MIN_MAX_FRAME_BYTES, L.MAX_MAX_FRAME_BYTES),
    handshakeTimeoutMs: positiveTimeoutMs('handshakeTimeoutMs', o.handshakeTimeoutMs, L.DEFAULT_HANDSHAKE_TIMEOUT_MS),
    handleTimeoutMs: positiveTimeoutMs('handleTimeoutMs', o.handleTimeoutMs, L.DEFAULT_HANDLE_TIMEOUT_MS),
    writeTimeoutMs: positiveTimeoutMs('writeTimeoutMs', o.writeTimeoutMs, L.DEFAULT_WRITE_TIMEOUT_MS),
    outputHighWaterBytes: integerLimit('outputHighWaterBytes', o.outputHighWaterBytes, L.DEFAULT_OUTPUT_HIGH_WATER_BYTES, 1, MAX_BYTES),
    maxConcurrentCalls: integerLimit('maxConcurrentCalls', o.maxConcurrentCalls, L.DEFAULT_MAX_CONCURRENT_CALLS, 1, MAX_BYTES, true),
    maxBufferedBytes: integerLimit('maxBufferedBytes', o.maxBufferedBytes, L.DEFAULT_MAX_BUFFERED_BYTES, 1, MAX_BYTES, true),
    frameStallTimeoutMs: positiveTimeoutMs('frameStallTimeoutMs', o.frameStallTimeoutMs, L.DEFAULT_FRAME_STALL_TIMEOUT_MS),
    keepaliveMs: timeoutOrZeroMs('keepaliveMs', o.keepaliveMs, L.DEFAULT_KEEPALIVE_MS),
    keepaliveTimeoutMs: positiveTimeoutMs('keepaliveTimeoutMs', o.keepaliveTimeoutMs, L.DEFAULT_KEEPALIVE_TIMEOUT_MS),
    idleTimeoutMs: timeoutOrZeroMs('idleTimeoutMs', o.idleTimeoutMs, L.DEFAULT_IDLE_TIMEOUT_MS),
    httpMaxBodyBytes: integerLimit('httpMaxBodyBytes', o.httpMaxBodyBytes, DEFAULT_HTTP_MAX_BODY_BYTES, 1, MAX_BYTES),
    streamWindow: resolveStreamWindow(o),
  };
}
