import type { RpcErrorDetail } from '../errors/rpc-error';
import { MAX_ARGUMENT_DEPTH } from '../util/limits';

/**
 * Whether `value` nests arrays and objects deeper than `maxDepth` (a scalar is depth 0, `[1]` depth 1).
 * Iterative, so a 100,000-level value cannot overflow the stack here as it would in class-transformer.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [object, number];
    if (depth > maxDepth) return true;
    for (const key in node) {
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** A detail when the argument at `path` is nested too deeply, else undefined. */
export function depthDetail(value: unknown, path: string, maxDepth = MAX_ARGUMENT_DEPTH): RpcErrorDetail | undefined {
  if (!nestsDeeperThan(value, maxDepth)) return undefined;
  return { path, constraint: 'maxDepth', message: `${path} nests arrays and objects more than ${maxDepth} levels deep` };
}
