import { AsyncLocalStorage } from 'node:async_hooks';
import type * as Otel from '@opentelemetry/api';
import type { ClientInterceptor, ServerInterceptor } from './interceptor';
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent, TRACEPARENT_KEY, type TraceParent } from './traceparent';

/** The trace a handler runs in, for the calls it makes. */
interface ActiveTrace {
  readonly trace: TraceParent;
  readonly otelContext: Otel.Context | undefined;
}

const active = new AsyncLocalStorage<ActiveTrace>();

/**
 * An OpenTelemetry `Tracer` (from `trace.getTracer(...)` or a provider's `getTracer`). Declared here in the
 * shape MyRPC calls, so that MyRPC's types do not need `@opentelemetry/api` installed.
 */
export interface TracerLike {
  startSpan(name: string, options?: object, context?: unknown): unknown;
}

export interface TracingOptions {
  /**
   * Tracer for spans. Default: `@opentelemetry/api`'s global tracer named `myrpc` when that package is
   * installed (spans are recorded once a tracer provider is registered); without the package, ids are still
   * propagated but no span is recorded.
   */
  tracer?: TracerLike;
}

/** The trace of the server call running now (inside a handler behind `serverTracing`), if any. */
export function currentTrace(): TraceParent | undefined {
  return active.getStore()?.trace;
}

/**
 * Server side of tracing: continues the caller's W3C `traceparent` (metadata) or starts a trace, opens a
 * SERVER span when OpenTelemetry is there, and makes the trace current for the handler, so calls it makes
 * through a client with `clientTracing()` carry it on.
 */
export function serverTracing(options: TracingOptions = {}): ServerInterceptor {
  return (next) => async (call) => {
    const parent = parseTraceparent(call.context.metadata[TRACEPARENT_KEY]);
    const otel = loadOtel();
    if (!otel) return active.run({ trace: childOf(parent), otelContext: undefined }, () => next(call));
    const tracer = (options.tracer as Otel.Tracer | undefined) ?? otel.trace.getTracer('myrpc');
    const parentContext = parent ? otel.trace.setSpanContext(otel.ROOT_CONTEXT, remoteSpan(parent)) : otel.ROOT_CONTEXT;
    const span = tracer.startSpan(
      `${call.service}/${call.method}`,
      { kind: otel.SpanKind.SERVER, attributes: rpcAttributes(call.service, call.method) },
      parentContext,
    );
    const otelContext = otel.trace.setSpan(parentContext, span);
    const trace = fromSpan(span) ?? childOf(parent);
    try {
      return await active.run({ trace, otelContext }, () => next(call));
    } catch (err) {
      span.setStatus({ code: otel.SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  };
}

/**
 * Client side of tracing: adds a `traceparent` to each call's metadata (unless it has one), a child of the
 * server call this runs in or of OpenTelemetry's active span, else a new trace; opens a CLIENT span when
 * OpenTelemetry is there.
 */
export function clientTracing(options: TracingOptions = {}): ClientInterceptor {
  return (next) => async (call) => {
    if (call.metadata[TRACEPARENT_KEY] !== undefined) return next(call);
    const outer = active.getStore();
    const otel = loadOtel();
    if (!otel) {
      call.metadata[TRACEPARENT_KEY] = formatTraceparent(childOf(outer?.trace));
      return next(call);
    }
    const tracer = (options.tracer as Otel.Tracer | undefined) ?? otel.trace.getTracer('myrpc');
    const parentContext = outer?.otelContext ?? otel.context.active();
    const span = tracer.startSpan(
      `${call.service}/${call.method}`,
      { kind: otel.SpanKind.CLIENT, attributes: rpcAttributes(call.service, call.method) },
      parentContext,
    );
    call.metadata[TRACEPARENT_KEY] = formatTraceparent(fromSpan(span) ?? childOf(outer?.trace));
    try {
      return await next(call);
    } catch (err) {
      span.setStatus({ code: otel.SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  };
}

function childOf(parent: TraceParent | undefined): TraceParent {
  return { traceId: parent?.traceId ?? newTraceId(), spanId: newSpanId(), flags: parent?.flags ?? '01' };
}

function remoteSpan(t: TraceParent): Otel.SpanContext {
  return { traceId: t.traceId, spanId: t.spanId, traceFlags: parseInt(t.flags, 16), isRemote: true };
}

/** A recording span's ids; undefined for the no-op API's span (no SDK registered), which has none of its own. */
function fromSpan(span: Otel.Span): TraceParent | undefined {
  if (!span.isRecording()) return undefined;
  const sc = span.spanContext();
  const t = { traceId: sc.traceId, spanId: sc.spanId, flags: (sc.traceFlags & 0xff).toString(16).padStart(2, '0') };
  return parseTraceparent(formatTraceparent(t));
}

function rpcAttributes(service: string, method: string): Otel.Attributes {
  return { 'rpc.system': 'myrpc', 'rpc.service': service, 'rpc.method': method };
}

let otelModule: typeof Otel | null | undefined;

/** `@opentelemetry/api` is an optional peer: looked for on first use, once. */
function loadOtel(): typeof Otel | undefined {
  if (otelModule === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      otelModule = require('@opentelemetry/api') as typeof Otel;
    } catch {
      otelModule = null;
    }
  }
  return otelModule ?? undefined;
}
