/**
 * What a method parameter may be declared as, in `@Method({ params: [...] })` or through `design:paramtypes`.
 */
import type { AnyClass } from './metadata-storage';

/**
 * The Standard Schema interface (https://standardschema.dev, version 1) that zod, valibot and arktype
 * implement. Copied here, as the spec asks, so MyRPC depends on none of them.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a Standard Schema's `validate` answers: the (possibly transformed) value, or the issues found. */
export type StandardSchemaResult<Output> =
  { readonly value: Output; readonly issues?: undefined } | { readonly issues: readonly StandardSchemaIssue[] };

export interface StandardSchemaIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** An array whose every element is checked as `element`. Made by {@link arrayOf}. */
export interface ArrayMarker {
  readonly arrayOf: ParamType;
}

/**
 * One parameter's declared type: a class (a DTO, transformed by class-transformer and validated by
 * class-validator), `Number`, `String`, `Boolean`, `Date`, `Uint8Array` (or `Buffer`), `Array` (any array),
 * `Object` (any value), an {@link arrayOf} marker, or a Standard Schema validator.
 */
export type ParamType = AnyClass | StandardSchemaV1 | ArrayMarker;

const ARRAY_MARKER = Symbol.for('myrpc.arrayOf');

/**
 * Declares an array parameter whose elements are all of one type: `@Method({ params: [arrayOf(NewUser)] })`.
 * A one-element array literal, `[NewUser]`, means the same.
 */
export function arrayOf(element: ParamType): ArrayMarker {
  if (!isParamType(element)) throw new TypeError(`arrayOf(): ${describeEntry(element)} is not a parameter type`);
  return { arrayOf: element, [ARRAY_MARKER]: true } as ArrayMarker;
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const std = (value as Partial<StandardSchemaV1>)['~standard'];
  return typeof std === 'object' && std !== null && typeof std.validate === 'function';
}

export function isArrayMarker(value: unknown): value is ArrayMarker {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ARRAY_MARKER] === true;
}

/** True for a value that can stand in `params`. A Standard Schema is tried first: some are also functions. */
export function isParamType(value: unknown): value is ParamType {
  return isStandardSchema(value) || isArrayMarker(value) || typeof value === 'function';
}

/** `[NewUser]` written in `params` becomes `arrayOf(NewUser)`; anything else is returned as given. */
export function normalizeParamEntry(entry: unknown): unknown {
  if (Array.isArray(entry) && entry.length === 1 && isParamType(entry[0])) return arrayOf(entry[0]);
  return entry;
}

/** A short human name of an entry, for error messages. */
export function describeEntry(entry: unknown): string {
  if (isStandardSchema(entry)) return `a ${entry['~standard'].vendor} schema`;
  if (isArrayMarker(entry)) return `arrayOf(${describeEntry(entry.arrayOf)})`;
  if (typeof entry === 'function') return entry.name || '<anonymous class>';
  if (Array.isArray(entry)) return `an array of ${entry.length} entries`;
  return entry === null ? 'null' : typeof entry;
}
