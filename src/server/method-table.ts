import type { ValidatorOptions } from 'class-validator';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { ServerInterceptor, ServerNext } from '../interceptors/interceptor';
import { buildServerChain } from '../interceptors/server-chain';
import { echoedName } from '../protocol/request';
import type { MethodDefinition, ServiceDefinition } from '../metadata/service-definition';
import { scanService, ServiceDefinitionError } from '../metadata/service-scanner';
import { buildArgumentChecker, type ArgumentChecker } from './argument-checker';
import { MethodStats } from './method-stats';
import { streamKindOf, takesInputStream, type StreamKind } from '../stream/stream-kind';
import { inputStreamChecker, itemCheck } from '../stream/inbound-stream';
import type { ParamCheck } from './param-checks';

/** One callable method of a registered service instance. */
export interface MethodEntry {
  readonly def: MethodDefinition;
  readonly instance: object;
  readonly handler: (...args: unknown[]) => unknown;
  readonly checkArgs: ArgumentChecker;
  readonly stats: MethodStats;
  /** Decided once at registration: the method streams its result (server and bidi streams, src/stream/). */
  readonly stream: boolean;
  /** Decided once at registration: the caller streams the first parameter (client and bidi streams). */
  readonly input: boolean;
  /** The method's shape; undefined for a unary method. */
  readonly kind: StreamKind | undefined;
  /** For client and bidi streams: the check each item of the input passes (the first parameter's type), if any. */
  readonly itemCheck?: ParamCheck;
  /** The method's interceptor chain, or undefined when it has none (the call path then calls the handler directly). */
  chain: ServerNext | undefined;
}

/**
 * The in-process table of callable methods (not to be confused with the service registry, where servers
 * announce their addresses). Two-level maps, so a lookup builds no string.
 */
export class MethodTable {
  private readonly services = new Map<string, Map<string, MethodEntry>>();
  private readonly definitions = new Map<string, ServiceDefinition>();
  private readonly interceptors: ServerInterceptor[] = [];

  constructor(
    private readonly validatorOptions?: ValidatorOptions,
    interceptors: readonly ServerInterceptor[] = [],
  ) {
    this.interceptors.push(...interceptors);
  }

  /** Adds global interceptors (outermost last-added inside earlier ones) and rebuilds every method's chain. */
  use(interceptors: readonly ServerInterceptor[]): void {
    this.interceptors.push(...interceptors);
    for (const [name, methods] of this.services) {
      const target = (this.definitions.get(name) as ServiceDefinition).target;
      for (const entry of methods.values()) entry.chain = buildServerChain(entry, target, this.interceptors);
    }
  }

  /** The global interceptors, outermost first (the HTTP pages run through these too). */
  globalInterceptors(): readonly ServerInterceptor[] {
    return this.interceptors;
  }

  /** Scans the instance's class and adds its methods. Throws `ServiceDefinitionError` on a definition mistake. */
  register(instance: object): ServiceDefinition {
    if (typeof instance !== 'object' || instance === null) {
      throw new ServiceDefinitionError(`register() takes an instance of a @Service class, got ${String(instance)}`);
    }
    const def = scanService(instance.constructor);
    const existing = this.definitions.get(def.name);
    if (existing) {
      throw new ServiceDefinitionError(
        `duplicate service name '${def.name}': ${def.target.name} and ${existing.target.name} both register it`,
      );
    }
    const methods = new Map<string, MethodEntry>();
    for (const m of def.methods.values()) {
      const handler = (instance as Record<string, unknown>)[m.name] as (...args: unknown[]) => unknown;
      const kind = streamKindOf(handler, m.options.stream);
      const input = takesInputStream(kind);
      const entry: MethodEntry = {
        def: m,
        instance,
        handler,
        checkArgs: input ? inputStreamChecker(m, this.validatorOptions) : buildArgumentChecker(m, this.validatorOptions),
        stats: new MethodStats(),
        stream: kind === 'server' || kind === 'bidi',
        input,
        kind,
        itemCheck: input ? itemCheck(m, this.validatorOptions) : undefined,
        chain: undefined,
      };
      entry.chain = buildServerChain(entry, def.target, this.interceptors);
      methods.set(m.name, entry);
    }
    this.services.set(def.name, methods);
    this.definitions.set(def.name, def);
    return def;
  }

  /** Throws `UNIMPLEMENTED` naming what is missing. */
  lookup(service: string, method: string): MethodEntry {
    const methods = this.services.get(service);
    if (!methods) throw new RpcError(RpcCode.UNIMPLEMENTED, `unknown service '${echoedName(service)}'`);
    const entry = methods.get(method);
    if (!entry) throw new RpcError(RpcCode.UNIMPLEMENTED, `unknown method '${echoedName(method)}' of service '${echoedName(service)}'`);
    return entry;
  }

  /** Every registered method, in registration order. */
  entries(): MethodEntry[] {
    return [...this.services.values()].flatMap((m) => [...m.values()]);
  }

  serviceDefinitions(): ServiceDefinition[] {
    return [...this.definitions.values()];
  }
}
