import type { MethodEntry } from '../server/method-table';
import { methodKind } from '../stream/stream-stats';
import type { MetricFamily, MetricSample } from './metrics';

/**
 * The stream families of `/metrics`, one sample per streaming method (unary methods have none, so the
 * families stay small); a server-wide figure is the `sum()` of a family.
 */
export function streamFamilies(entries: readonly MethodEntry[]): MetricFamily[] {
  const open: MetricSample[] = [];
  const opened: MetricSample[] = [];
  const sent: MetricSample[] = [];
  const received: MetricSample[] = [];
  for (const { def, stats, handler } of entries) {
    if (methodKind(handler, def.options.stream) === 'unary') continue;
    const labels = { service: def.service, method: def.name };
    open.push({ labels, value: stats.streams.open });
    opened.push({ labels, value: stats.streams.opened });
    sent.push({ labels, value: stats.streams.itemsSent });
    received.push({ labels, value: stats.streams.itemsReceived });
  }
  return [
    { name: 'myrpc_streams_open', type: 'gauge', help: 'Streams open now, by service and method.', values: open },
    { name: 'myrpc_streams_opened_total', type: 'counter', help: 'Streams opened, by service and method.', values: opened },
    {
      name: 'myrpc_stream_items_sent_total',
      type: 'counter',
      help: 'Stream items sent to callers, by service and method.',
      values: sent,
    },
    {
      name: 'myrpc_stream_items_received_total',
      type: 'counter',
      help: 'Stream items received from callers, by service and method.',
      values: received,
    },
  ];
}
