import { plainToInstance } from 'class-transformer';
import type { ValidationError, ValidatorOptions } from 'class-validator';
import { getMetadataStorage as validationStorage, validate } from '../util/class-validator-parts';
import type { RpcErrorDetail } from '../errors/rpc-error';
import type { AnyClass } from '../metadata/metadata-storage';
import { depthDetail } from './argument-depth';
import { isArrayMarker, isStandardSchema, type ParamType, type StandardSchemaIssue, type StandardSchemaV1 } from '../metadata/param-types';

/**
 * Checks and converts one value: returns the value to pass on (or a promise of it), pushing a detail for each
 * failed rule. `async` is false when it never returns a promise, so all-sync methods keep a sync checker.
 */
export interface ParamCheck {
  readonly async: boolean;
  check(value: unknown, path: string, details: RpcErrorDetail[]): unknown;
}

function syncCheck(expected: string, ok: (v: unknown) => boolean, convert?: (v: unknown) => unknown): ParamCheck {
  return {
    async: false,
    check(value, path, details) {
      if (!ok(value)) {
        details.push({ path, constraint: 'type', message: `${path} must be ${article(expected)}, got ${describe(value)}` });
        return value;
      }
      return convert ? convert(value) : value;
    },
  };
}

// ISO 8601 as JSON.stringify writes a Date, with or without milliseconds and with any offset.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
// Standard base64 (RFC 4648 §4) with padding, the form Buffer#toString('base64') writes.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const isDateText = (v: unknown): boolean => typeof v === 'string' && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v));
const isValidDate = (v: unknown): boolean => v instanceof Date && !Number.isNaN(v.getTime());
const isBase64 = (v: unknown): boolean => typeof v === 'string' && BASE64.test(v);

const BYTES_CHECK = syncCheck(
  'byte array (bytes, or a base64 string over JSON)',
  (v) => v instanceof Uint8Array || isBase64(v),
  (v) =>
    typeof v === 'string'
      ? Buffer.from(v, 'base64')
      : Buffer.isBuffer(v)
        ? v
        : Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength),
);

const ANY_CHECK = syncCheck('a value', (v) => v !== undefined);

const BUILT_IN = new Map<unknown, ParamCheck>([
  [Number, syncCheck('number', (v) => typeof v === 'number' && Number.isFinite(v))],
  [String, syncCheck('string', (v) => typeof v === 'string')],
  [Boolean, syncCheck('boolean', (v) => typeof v === 'boolean')],
  [Array, syncCheck('array', (v) => Array.isArray(v))],
  [Object, ANY_CHECK],
  [undefined, ANY_CHECK],
  [Promise, ANY_CHECK],
  [Function, ANY_CHECK],
  [Symbol, ANY_CHECK],
  [
    Date,
    syncCheck(
      'date (an ISO 8601 string over JSON)',
      (v) => isValidDate(v) || isDateText(v),
      (v) => (v instanceof Date ? v : new Date(v as string)),
    ),
  ],
  [Uint8Array, BYTES_CHECK],
  [Buffer, BYTES_CHECK],
]);

/** Types whose values cannot nest (or are refused unless they are flat), so they skip the depth check. */
const FLAT_TYPES = new Set<unknown>([Number, String, Boolean, Date, Uint8Array, Buffer]);

/** The check for one declared type, built once per method; values that can nest are checked for depth first. */
export function paramCheck(type: ParamType | undefined, options: ValidatorOptions): ParamCheck {
  const check = typeCheckOf(type, options);
  return FLAT_TYPES.has(type) ? check : depthLimited(check);
}

function typeCheckOf(type: ParamType | undefined, options: ValidatorOptions): ParamCheck {
  const builtIn = BUILT_IN.get(type);
  if (builtIn) return builtIn;
  if (isStandardSchema(type)) return schemaCheck(type);
  // The whole array was depth-checked already; its elements need not be again.
  if (isArrayMarker(type)) return arrayCheck(typeCheckOf(type.arrayOf, options));
  return dtoCheck(type as AnyClass, options);
}

/** class-transformer and validators recurse and would overflow the stack on a value nested thousands deep. */
function depthLimited(inner: ParamCheck): ParamCheck {
  return {
    async: inner.async,
    check(value, path, details) {
      const tooDeep = depthDetail(value, path);
      if (tooDeep === undefined) return inner.check(value, path, details);
      details.push(tooDeep);
      return value;
    },
  };
}

function arrayCheck(element: ParamCheck): ParamCheck {
  const isArray = BUILT_IN.get(Array) as ParamCheck;
  return {
    async: element.async,
    check(value, path, details) {
      if (!Array.isArray(value)) return isArray.check(value, path, details);
      const out = value.map((v, i) => element.check(v, `${path}[${i}]`, details));
      return element.async ? Promise.all(out) : out;
    },
  };
}

function schemaCheck(schema: StandardSchemaV1): ParamCheck {
  const std = schema['~standard'];
  return {
    async: true,
    async check(value, path, details) {
      const result = await std.validate(value);
      if (result.issues === undefined) return result.value;
      for (const issue of result.issues) details.push({ path: issuePath(path, issue), constraint: std.vendor, message: issue.message });
      return value;
    },
  };
}

function issuePath(prefix: string, issue: StandardSchemaIssue): string {
  let path = prefix;
  for (const segment of issue.path ?? []) {
    const key = typeof segment === 'object' ? segment.key : segment;
    path += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return path;
}

/** A class: transformed with class-transformer, then validated when class-validator knows rules for it. */
function dtoCheck(type: AnyClass, options: ValidatorOptions): ParamCheck {
  let hasRules: boolean | undefined;
  return {
    async: true,
    async check(value, path, details) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        details.push({ path, constraint: 'type', message: `${path} must be an object (${type.name}), got ${describe(value)}` });
        return value;
      }
      const instance = plainToInstance(type as new () => object, value);
      // forbidUnknownValues refuses an instance of a class without rules; such a DTO is only transformed.
      hasRules ??= validationStorage().getTargetValidationMetadatas(type, '', true, false).length > 0;
      if (hasRules) flatten(await validate(instance, options), path, details);
      return instance;
    },
  };
}

function flatten(errors: ValidationError[], prefix: string, out: RpcErrorDetail[]): void {
  for (const e of errors) {
    const path = e.property === undefined || e.property === '' ? prefix : `${prefix}.${e.property}`;
    for (const [constraint, message] of Object.entries(e.constraints ?? {})) out.push({ path, constraint, message });
    if (e.children && e.children.length > 0) flatten(e.children, path, out);
  }
}

function article(expected: string): string {
  return expected === 'a value' ? expected : /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  // JSON.stringify would print NaN and Infinity as null; only strings need quoting
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${text}`.slice(0, 60);
}
