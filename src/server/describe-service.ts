import type * as JsonSchemas from 'class-validator-jsonschema';
import { Method } from '../decorators/method';
import { Service } from '../decorators/service';
import { RpcCode, RpcError } from '../errors/rpc-error';
import type { AnyClass } from '../metadata/metadata-storage';
import { isArrayMarker, isStandardSchema, type ParamType } from '../metadata/param-types';
import type { MethodDefinition, ServiceDefinition } from '../metadata/service-definition';
import { methodKind, type MethodKind } from '../stream/stream-stats';

export const DESCRIBE_SERVICE = 'MyRpcDescribe';

export type JsonSchema = Record<string, unknown>;

export interface ParamDescription {
  index: number;
  /**
   * `number`, `string`, `boolean`, `date`, `bytes`, `array`, `any`, `T[]` for `arrayOf(T)`, `schema:VENDOR` for a
   * Standard Schema validator (e.g. `schema:zod`), or the DTO class name.
   */
  type: string;
  /** JSON Schema; for a DTO, derived from its class-validator rules. */
  schema: JsonSchema;
}

export interface MethodDescription {
  name: string;
  params: ParamDescription[];
  shardKey?: { index: number; path: string };
  timeoutMs?: number;
  idempotent: boolean;
  /** `unary`, or how the method streams: `server` (it answers with items), `client` or `bidi`. */
  kind: MethodKind;
}

export interface ServiceDescription {
  name: string;
  methods: MethodDescription[];
}

const PRIMITIVE_SCHEMAS = new Map<unknown, [string, JsonSchema]>([
  [Number, ['number', { type: 'number' }]],
  [String, ['string', { type: 'string' }]],
  [Boolean, ['boolean', { type: 'boolean' }]],
  [Array, ['array', { type: 'array' }]],
  [Object, ['any', {}]],
  [undefined, ['any', {}]],
  [Date, ['date', { type: 'string', format: 'date-time' }]],
  [Uint8Array, ['bytes', { type: 'string', contentEncoding: 'base64' }]],
  [Buffer, ['bytes', { type: 'string', contentEncoding: 'base64' }]],
]);

/** Built into every server: what it serves, for `myrpc list/describe`, tools and other languages. */
@Service(DESCRIBE_SERVICE)
export class DescribeService {
  constructor(private readonly definitions: () => ServiceDefinition[]) {}

  /** Service names with their method names. */
  @Method({ idempotent: true })
  services(): { name: string; methods: string[] }[] {
    return this.definitions().map((d) => ({ name: d.name, methods: [...d.methods.keys()] }));
  }

  @Method({ idempotent: true })
  describe(service: string): ServiceDescription {
    const def = this.definitions().find((d) => d.name === service);
    if (!def) throw new RpcError(RpcCode.NOT_FOUND, `unknown service '${service}'`);
    // Loaded when first asked: it loads all of class-validator, which a process should not pay for until then
    // (see src/util/class-validator-parts.ts).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { validationMetadatasToSchemas } = require('class-validator-jsonschema') as typeof JsonSchemas;
    const schemas = validationMetadatasToSchemas({ refPointerPrefix: '#/definitions/' }) as Record<string, JsonSchema>;
    const prototype = def.target.prototype as Record<string, unknown>;
    return { name: def.name, methods: [...def.methods.values()].map((m) => describeMethod(m, schemas, prototype[m.name])) };
  }
}

function describeMethod(m: MethodDefinition, schemas: Record<string, JsonSchema>, handler: unknown): MethodDescription {
  const out: MethodDescription = {
    name: m.name,
    params: m.paramTypes.map((type, index) => ({ index, ...describeType(type, schemas) })),
    idempotent: m.options.idempotent === true,
    kind: methodKind(handler, m.options.stream),
  };
  if (m.shardKey) out.shardKey = { index: m.shardKey.index, path: m.shardKey.path.join('.') };
  if (m.options.timeoutMs !== undefined) out.timeoutMs = m.options.timeoutMs;
  return out;
}

function describeType(type: ParamType | undefined, schemas: Record<string, JsonSchema>): { type: string; schema: JsonSchema } {
  const primitive = PRIMITIVE_SCHEMAS.get(type);
  if (primitive) return { type: primitive[0], schema: primitive[1] };
  if (isStandardSchema(type)) return { type: `schema:${type['~standard'].vendor}`, schema: {} };
  if (isArrayMarker(type)) {
    const element = describeType(type.arrayOf, schemas);
    return { type: `${element.type}[]`, schema: { type: 'array', items: element.schema } };
  }
  const name = (type as AnyClass).name;
  const own = schemas[name] ?? { type: 'object' };
  const definitions: Record<string, JsonSchema> = {};
  collectRefs(own, schemas, definitions);
  return { type: name, schema: Object.keys(definitions).length > 0 ? { ...own, definitions } : own };
}

/** Adds every schema `value` refers to (transitively) to `out`. */
function collectRefs(value: unknown, schemas: Record<string, JsonSchema>, out: Record<string, JsonSchema>): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string') {
      const name = v.replace('#/definitions/', '');
      if (!(name in out) && schemas[name]) {
        out[name] = schemas[name];
        collectRefs(schemas[name], schemas, out);
      }
    } else {
      collectRefs(v, schemas, out);
    }
  }
}
