import { integerLimit } from '../util/option-checks';
import { DEFAULT_STREAM_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_MESSAGES, type StreamWindow } from './stream-window';

/** The largest `streamWindowMessages` accepted. */
export const MAX_STREAM_WINDOW_MESSAGES = 65536;
/** The smallest `streamWindowBytes` accepted (1 KiB). */
export const MIN_STREAM_WINDOW_BYTES = 1024;
/** The largest `streamWindowBytes` accepted (1 GiB). */
export const MAX_STREAM_WINDOW_BYTES = 1024 * 1024 * 1024;

/** The window a receiver grants each stream it receives items on, and gives back as the items are taken. */
export interface StreamWindowOptions {
  /**
   * Items a stream's sender may have unread at this receiver: an integer from 1 to 65536. Default
   * `DEFAULT_STREAM_WINDOW_MESSAGES` (256). Credit goes back each time half of it was taken.
   */
  streamWindowMessages?: number;
  /**
   * Encoded item bytes a stream's sender may have unread at this receiver (one item may overshoot it): an
   * integer from 1024 to 1073741824 (1 GiB). Default `DEFAULT_STREAM_WINDOW_BYTES` (1 MiB).
   */
  streamWindowBytes?: number;
}

/** Checks and defaults the window options; a bad value is a `RangeError` naming the option. */
export function resolveStreamWindow(o: StreamWindowOptions): StreamWindow {
  return {
    messages: integerLimit('streamWindowMessages', o.streamWindowMessages, DEFAULT_STREAM_WINDOW_MESSAGES, 1, MAX_STREAM_WINDOW_MESSAGES),
    bytes: integerLimit(
      'streamWindowBytes',
      o.streamWindowBytes,
      DEFAULT_STREAM_WINDOW_BYTES,
      MIN_STREAM_WINDOW_BYTES,
      MAX_STREAM_WINDOW_BYTES,
    ),
  };
}
