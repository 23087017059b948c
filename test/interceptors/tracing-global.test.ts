import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { clientTracing, Method, serverTracing, Service } from '../../src/index';
import { startServer } from '../helpers/servers';

@Service('Traced')
class Traced {
  @Method()
  ping(): string {
    return 'pong';
  }
}

// Its own file: a global tracer provider is process-wide, and node --test runs each file in its own process.
test('with a global tracer provider registered and no tracer given, spans go to the global provider', async (t) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  assert.ok(trace.setGlobalTracerProvider(provider));
  t.after(async () => {
    trace.disable();
    await provider.shutdown();
  });
  const s = await startServer([new Traced()], { interceptors: [serverTracing()] });
  t.after(() => s.stop());
  assert.equal(await s.client({ interceptors: [clientTracing()] }).call('Traced', 'ping', []), 'pong');
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(spans.map((sp) => `${sp.kind}:${sp.name}`).sort(), ['1:Traced/ping', '2:Traced/ping']);
  const [server, client] = [spans.find((sp) => sp.kind === 1), spans.find((sp) => sp.kind === 2)];
  assert.equal(server?.parentSpanContext?.spanId, client?.spanContext().spanId);
  assert.equal(server?.instrumentationScope.name, 'myrpc');
});
