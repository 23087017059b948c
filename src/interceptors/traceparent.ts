import { randomBytes } from 'node:crypto';

/** The parts of a W3C `traceparent` (version 00): `00-<traceId>-<spanId>-<flags>`. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: the id of the span that sent the call. */
  readonly spanId: string;
  /** 2 hex digits; `01` means sampled. */
  readonly flags: string;
}

export const TRACEPARENT_KEY = 'traceparent';
const PATTERN = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a version-00 `traceparent`; undefined for anything malformed (the call then starts a new trace). */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const m = PATTERN.exec(value.trim());
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}

export function formatTraceparent(t: TraceParent): string {
  return `00-${t.traceId}-${t.spanId}-${t.flags}`;
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}
