import type { StreamItem } from './stream-service';

export type StreamSystem = 'raw' | 'myrpc-json' | 'myrpc-msgpack' | 'grpc';
export const STREAM_SYSTEMS: readonly StreamSystem[] = ['raw', 'myrpc-json', 'myrpc-msgpack', 'grpc'];
export type StreamItemKind = 'small' | '1k';
export const STREAM_KINDS: readonly { kind: StreamItemKind; label: string }[] = [
  { kind: 'small', label: 'stream of { i }' },
  { kind: '1k', label: 'stream of 1 KiB items' },
];

/**
 * Items a producer writes per event-loop turn when nothing else bounds it (the raw and gRPC producers): the
 * most a MyRPC stream may have unacknowledged (DEFAULT_STREAM_WINDOW_MESSAGES), so no producer batches more.
 */
export const TURN_ITEMS = 64;
/** Bytes a raw producer writes per turn at most, the FrameWriter's batch bound (docs/DECISIONS.md). */
export const TURN_BYTES = 64 * 1024;

/** The consuming side of one system, over one connection. */
export interface StreamConsumer {
  /**
   * Opens one endless stream of `kind` items; `onItem` sees each as it arrives, `onError` a failure that was
   * not asked for. Returns the cancel, after which neither is called again.
   */
  open(kind: StreamItemKind, onItem: (item: StreamItem) => void, onError: (err: unknown) => void): () => void;
  close(): Promise<void>;
}
