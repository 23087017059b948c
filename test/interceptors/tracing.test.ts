import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  clientTracing,
  Ctx,
  Method,
  parseTraceparent,
  type RpcClient,
  serverTracing,
  Service,
  formatTraceparent,
  type CallContext,
  type TracingOptions,
} from '../../src/index';
import { startServer } from '../helpers/servers';

@Service('Back')
class Back {
  @Method()
  traceparent(@Ctx() ctx: CallContext): string {
    return ctx.metadata.traceparent ?? '';
  }
}

@Service('Front')
class Front {
  constructor(private readonly back: () => RpcClient) {}

  @Method()
  async hop(@Ctx() ctx: CallContext): Promise<string[]> {
    const downstream = (await this.back().call('Back', 'traceparent', [], { deadline: ctx.deadline })) as string;
    return [ctx.metadata.traceparent ?? '', downstream];
  }
}

/** front client -> Front (server span) -> back client (nested) -> Back; returns the two traceparents seen. */
async function twoHops(t: { after(fn: () => unknown): void }, options: TracingOptions): Promise<string[]> {
  const back = await startServer([new Back()]);
  const backClient = back.client({ interceptors: [clientTracing(options)] });
  const front = await startServer([new Front(() => backClient)], { interceptors: [serverTracing(options)] });
  t.after(() => Promise.all([front.stop(), back.stop()]));
  return (await front.client({ interceptors: [clientTracing(options)] }).call('Front', 'hop', [])) as string[];
}

test('tracing without a tracer propagates one trace id through two hops, each hop with its own parent span id', async (t) => {
  const [first, second] = await twoHops(t, {});
  const a = parseTraceparent(first);
  const b = parseTraceparent(second);
  assert.ok(a && b, `valid traceparents: ${first} / ${second}`);
  assert.equal(a.traceId, b.traceId);
  assert.notEqual(a.spanId, b.spanId);
});

test('with an OpenTelemetry tracer, client and server spans form one trace, each the parent of the next', async (t) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  t.after(() => provider.shutdown());
  const [first, second] = await twoHops(t, { tracer: provider.getTracer('test') });
  const spans = exporter.getFinishedSpans();
  const byKind = (kind: number, name: string) => spans.find((s) => s.kind === kind && s.name === name);
  const clientFront = byKind(2, 'Front/hop');
  const serverFront = byKind(1, 'Front/hop');
  const clientBack = byKind(2, 'Back/traceparent');
  assert.ok(clientFront && serverFront && clientBack, spans.map((s) => `${s.kind}:${s.name}`).join(','));
  const traceId = clientFront.spanContext().traceId;
  for (const s of spans) assert.equal(s.spanContext().traceId, traceId);
  assert.equal(serverFront.parentSpanContext?.spanId, clientFront.spanContext().spanId);
  assert.equal(clientBack.parentSpanContext?.spanId, serverFront.spanContext().spanId);
  assert.equal(first, formatTraceparent({ traceId, spanId: clientFront.spanContext().spanId, flags: '01' }));
  assert.equal(parseTraceparent(second)?.spanId, clientBack.spanContext().spanId);
  assert.equal(serverFront.attributes['rpc.service'], 'Front');
});

test('a malformed traceparent starts a new trace instead of failing the call', async (t) => {
  const front = await startServer([new Back()], { interceptors: [serverTracing()] });
  t.after(() => front.stop());
  for (const bad of ['garbage', '00-00000000000000000000000000000000-0000000000000000-01', '01-abc']) {
    assert.equal(await front.client({ metadata: { traceparent: bad } }).call('Back', 'traceparent', []), bad);
  }
  assert.equal(parseTraceparent('garbage'), undefined);
});
