import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError, type ValidatorOptions } from 'class-validator';
import { RpcCode, RpcError, type RpcErrorDetail } from '../errors/rpc-error';
import type { AnyClass } from '../metadata/metadata-storage';
import type { MethodDefinition } from '../metadata/service-definition';
import { depthDetail } from './argument-depth';

/** Checks and converts one argument: returns the value to pass, or pushes details and returns anything. */
type ParamCheck = (value: unknown, path: string, details: RpcErrorDetail[]) => unknown;

/** Returns the handler's arguments, or throws (or rejects with) `INVALID_ARGUMENT` listing every failed rule. */
export type ArgumentChecker = (args: unknown[]) => unknown[] | Promise<unknown[]>;

export const DEFAULT_VALIDATOR_OPTIONS: ValidatorOptions = { forbidUnknownValues: true };

const PRIMITIVE_CHECKS = new Map<unknown, ParamCheck>([
  [Number, typeCheck('number', (v) => typeof v === 'number' && Number.isFinite(v))],
  [String, typeCheck('string', (v) => typeof v === 'string')],
  [Boolean, typeCheck('boolean', (v) => typeof v === 'boolean')],
  [Array, typeCheck('array', (v) => Array.isArray(v))],
  [Object, typeCheck('a value', (v) => v !== undefined)],
]);

function typeCheck(expected: string, ok: (v: unknown) => boolean): ParamCheck {
  return (value, path, details) => {
    if (!ok(value)) details.push({ path, constraint: 'type', message: `${path} must be ${article(expected)}, got ${describe(value)}` });
    return value;
  };
}

function article(expected: string): string {
  return expected === 'a value' ? expected : /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  // JSON.stringify would print NaN and Infinity as null; only strings need quoting
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${text}`.slice(0, 60);
}

/**
 * Builds the checker for one method, once. Primitive-only methods get a synchronous checker; a method with a
 * DTO parameter transforms it with class-transformer and validates it with class-validator.
 */
export function buildArgumentChecker(def: MethodDefinition, validatorOptions = DEFAULT_VALIDATOR_OPTIONS): ArgumentChecker {
  const count = def.paramTypes.length;
  const where = `${def.service}.${def.name}`;
  const dtoIndexes: number[] = [];
  const paths = def.paramTypes.map((_, i) => `args[${i}]`);
  const checks: ParamCheck[] = def.paramTypes.map((type, i) => {
    const primitive = type === undefined ? PRIMITIVE_CHECKS.get(Object) : PRIMITIVE_CHECKS.get(type);
    if (primitive) return type === Array || type === Object || type === undefined ? depthLimited(primitive) : primitive;
    if (type === Promise || type === Function || type === Symbol) return depthLimited(PRIMITIVE_CHECKS.get(Object) as ParamCheck);
    dtoIndexes.push(i);
    return depthLimited(dtoCheck(type as AnyClass));
  });
  return (args) => {
    const details: RpcErrorDetail[] = [];
    if (args.length > count) {
      details.push({ path: 'args', constraint: 'count', message: `${where} takes ${count} argument(s), got ${args.length}` });
      throw invalid(where, details);
    }
    const out = new Array<unknown>(count);
    for (let i = 0; i < count; i++) out[i] = checks[i](args[i], paths[i], details);
    if (details.length > 0) throw invalid(where, details);
    return dtoIndexes.length === 0 ? out : validateDtos(where, out, dtoIndexes, validatorOptions);
  };
}

/** Values that can nest are checked for depth first: class-transformer recurses and would overflow the stack. */
function depthLimited(check: ParamCheck): ParamCheck {
  return (value, path, details) => {
    const tooDeep = depthDetail(value, path);
    if (tooDeep === undefined) return check(value, path, details);
    details.push(tooDeep);
    return value;
  };
}

function dtoCheck(type: AnyClass): ParamCheck {
  return (value, path, details) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      details.push({ path, constraint: 'type', message: `${path} must be an object (${type.name}), got ${describe(value)}` });
      return value;
    }
    return plainToInstance(type as new () => object, value);
  };
}

async function validateDtos(where: string, args: unknown[], indexes: number[], options: ValidatorOptions): Promise<unknown[]> {
  const details: RpcErrorDetail[] = [];
  for (const i of indexes) {
    const errors = await validate(args[i] as object, options);
    flatten(errors, `args[${i}]`, details);
  }
  if (details.length > 0) throw invalid(where, details);
  return args;
}

function flatten(errors: ValidationError[], prefix: string, out: RpcErrorDetail[]): void {
  for (const e of errors) {
    const path = e.property === undefined || e.property === '' ? prefix : `${prefix}.${e.property}`;
    for (const [constraint, message] of Object.entries(e.constraints ?? {})) out.push({ path, constraint, message });
    if (e.children && e.children.length > 0) flatten(e.children, path, out);
  }
}

function invalid(where: string, details: RpcErrorDetail[]): RpcError {
  const first = details[0]?.message ?? 'invalid arguments';
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new RpcError(RpcCode.INVALID_ARGUMENT, `invalid arguments for ${where}: ${first}${more}`, { details });
}
