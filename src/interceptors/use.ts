import type { AnyClass } from '../metadata/metadata-storage';
import { checkInterceptors, type ServerInterceptor } from './interceptor';

/** `@Use` records, keyed by constructor; one per process, like the decorator metadata storage. */
interface UseRecords {
  readonly byClass: Map<AnyClass, ServerInterceptor[]>;
  readonly byMethod: Map<AnyClass, Map<string, ServerInterceptor[]>>;
}

const GLOBAL_KEY = Symbol.for('myrpc.useRecords');

function records(): UseRecords {
  const g = globalThis as unknown as Record<symbol, UseRecords | undefined>;
  g[GLOBAL_KEY] ??= { byClass: new Map(), byMethod: new Map() };
  return g[GLOBAL_KEY];
}

/**
 * Attaches server interceptors to a `@Service` class (every method) or to one `@Method`. They run inside the
 * server's global interceptors, class ones before method ones, each list in the order given.
 */
export function Use(...interceptors: ServerInterceptor[]): ClassDecorator & MethodDecorator {
  checkInterceptors(interceptors, '@Use()');
  return ((target: object, propertyKey?: string | symbol) => {
    const r = records();
    if (propertyKey === undefined) {
      const list = r.byClass.get(target as AnyClass) ?? [];
      r.byClass.set(target as AnyClass, [...list, ...interceptors]);
      return;
    }
    const ctor = (target as { constructor: AnyClass }).constructor;
    const methods = r.byMethod.get(ctor) ?? new Map<string, ServerInterceptor[]>();
    methods.set(String(propertyKey), [...(methods.get(String(propertyKey)) ?? []), ...interceptors]);
    r.byMethod.set(ctor, methods);
  }) as ClassDecorator & MethodDecorator;
}

/** The `@Use` interceptors for one method of `target`: base classes' first, then the class's, then the method's. */
export function usedInterceptors(target: AnyClass, method: string): ServerInterceptor[] {
  const r = records();
  const chain: AnyClass[] = [];
  for (let c: AnyClass | null = target; c && c !== Object && c !== Function.prototype; c = Object.getPrototypeOf(c) as AnyClass | null)
    chain.unshift(c);
  const found: ServerInterceptor[] = [];
  for (const c of chain) found.push(...(r.byClass.get(c) ?? []));
  for (const c of chain) found.push(...(r.byMethod.get(c)?.get(method) ?? []));
  return found;
}
