import type { ValidatorOptions } from 'class-validator';
import { RpcCode, RpcError, type RpcErrorDetail } from '../errors/rpc-error';
import type { MethodDefinition } from '../metadata/service-definition';
import { paramCheck, type ParamCheck } from './param-checks';

/** Returns the handler's arguments, or throws (or rejects with) `INVALID_ARGUMENT` listing every failed rule. */
export type ArgumentChecker = (args: unknown[]) => unknown[] | Promise<unknown[]>;

export const DEFAULT_VALIDATOR_OPTIONS: ValidatorOptions = { forbidUnknownValues: true };

/**
 * Builds the checker for one method, once. A method whose parameters are all primitives, dates or bytes gets a
 * synchronous checker; DTO classes and Standard Schema validators make it asynchronous.
 */
export function buildArgumentChecker(def: MethodDefinition, validatorOptions = DEFAULT_VALIDATOR_OPTIONS): ArgumentChecker {
  const count = def.paramTypes.length;
  const where = `${def.service}.${def.name}`;
  const paths = def.paramTypes.map((_, i) => `args[${i}]`);
  const checks: ParamCheck[] = def.paramTypes.map((type) => paramCheck(type, validatorOptions));
  const async = checks.some((c) => c.async);
  return (args) => {
    const details: RpcErrorDetail[] = [];
    if (args.length > count) {
      details.push({ path: 'args', constraint: 'count', message: `${where} takes ${count} argument(s), got ${args.length}` });
      throw invalid(where, details);
    }
    const out = new Array<unknown>(count);
    if (!async) {
      for (let i = 0; i < count; i++) out[i] = checks[i].check(args[i], paths[i], details);
      if (details.length > 0) throw invalid(where, details);
      return out;
    }
    // One list per parameter, so details come in parameter order whichever validation finishes first.
    const each = checks.map(() => [] as RpcErrorDetail[]);
    for (let i = 0; i < count; i++) out[i] = checks[i].check(args[i], paths[i], each[i]);
    return settle(where, out, each);
  };
}

async function settle(where: string, pending: unknown[], each: RpcErrorDetail[][]): Promise<unknown[]> {
  const out = await Promise.all(pending);
  const details = each.flat();
  if (details.length > 0) throw invalid(where, details);
  return out;
}

function invalid(where: string, details: RpcErrorDetail[]): RpcError {
  const first = details[0]?.message ?? 'invalid arguments';
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new RpcError(RpcCode.INVALID_ARGUMENT, `invalid arguments for ${where}: ${first}${more}`, { details });
}
