import { streamKindOf, type StreamKind } from './stream-kind';

/** How a method moves data: `unary` (one request, one answer), or the {@link StreamKind} of a stream. */
export type MethodKind = 'unary' | StreamKind;

/** The kind of a method, from its `@Method({ stream })` option, else its handler (`async *`: a server stream). */
export function methodKind(handler: unknown, declared: unknown): MethodKind {
  return streamKindOf(handler, declared) ?? 'unary';
}

/**
 * Per-method stream figures for the debug page and /metrics: a few increments per stream and per item.
 * Every stream calls {@link begin} once as it opens and {@link end} exactly once however it stops (end,
 * error, cancel, deadline, connection loss), so {@link open} goes back to 0 when no stream is left.
 */
export class StreamStats {
  /** Streams open now. */
  open = 0;
  /** Streams opened since the server started. */
  opened = 0;
  /** Items sent to callers since start (server streams, the answer side of bidi). */
  itemsSent = 0;
  /** Items received from callers since start (client streams, the request side of bidi). */
  itemsReceived = 0;

  begin(): void {
    this.open++;
    this.opened++;
  }

  end(): void {
    this.open--;
  }

  /** `items` more went out to the caller. */
  sent(items = 1): void {
    this.itemsSent += items;
  }

  /** `items` more arrived from the caller. */
  received(items = 1): void {
    this.itemsReceived += items;
  }
}

/** The sum of many methods' figures (the server-wide line of the debug page and /metrics). */
export function totalStreamStats(all: Iterable<StreamStats>): StreamStats {
  const total = new StreamStats();
  for (const s of all) {
    total.open += s.open;
    total.opened += s.opened;
    total.itemsSent += s.itemsSent;
    total.itemsReceived += s.itemsReceived;
  }
  return total;
}
