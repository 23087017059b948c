import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/frame';
import * as L from '../util/limits';
import { integerLimit, positiveTimeoutMs, timeoutOrZeroMs } from '../util/option-checks';
import type { RpcClientOptions } from './rpc-client';
import type { StreamWindow } from '../stream/stream-window';
import { resolveStreamWindow } from '../stream/window-options';

/** Every timeout and limit of a client, checked (a `RangeError` naming the option) and defaulted. */
export interface ClientLimits {
  readonly defaultTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly outputHighWaterBytes: number;
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly frameStallTimeoutMs: number;
  /** The window granted to each server or bidi stream's items. */
  readonly streamWindow: StreamWindow;
}

export function resolveClientLimits(o: RpcClientOptions): ClientLimits {
  return {
    defaultTimeoutMs: positiveTimeoutMs('defaultTimeoutMs', o.defaultTimeoutMs, L.DEFAULT_CALL_TIMEOUT_MS),
    maxFrameBytes: integerLimit('maxFrameBytes', o.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, L.MIN_MAX_FRAME_BYTES, L.MAX_MAX_FRAME_BYTES),
    connectTimeoutMs: positiveTimeoutMs('connectTimeoutMs', o.connectTimeoutMs, L.DEFAULT_CONNECT_TIMEOUT_MS),
    handshakeTimeoutMs: positiveTimeoutMs('handshakeTimeoutMs', o.handshakeTimeoutMs, L.DEFAULT_CLIENT_HANDSHAKE_TIMEOUT_MS),
    writeTimeoutMs: positiveTimeoutMs('writeTimeoutMs', o.writeTimeoutMs, L.DEFAULT_CLIENT_WRITE_TIMEOUT_MS),
    outputHighWaterBytes: integerLimit(
      'outputHighWaterBytes',
      o.outputHighWaterBytes,
      L.DEFAULT_OUTPUT_HIGH_WATER_BYTES,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    keepaliveMs: timeoutOrZeroMs('keepaliveMs', o.keepaliveMs, L.DEFAULT_KEEPALIVE_MS),
    keepaliveTimeoutMs: positiveTimeoutMs('keepaliveTimeoutMs', o.keepaliveTimeoutMs, L.DEFAULT_KEEPALIVE_TIMEOUT_MS),
    frameStallTimeoutMs: positiveTimeoutMs('frameStallTimeoutMs', o.frameStallTimeoutMs, L.DEFAULT_FRAME_STALL_TIMEOUT_MS),
    streamWindow: resolveStreamWindow(o),
  };
}
