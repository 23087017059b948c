import { ServiceDefinitionError } from '../metadata/service-definition-error';

/** The shapes a method may have besides unary: who sends a stream of items. */
export type StreamKind = 'server' | 'client' | 'bidi';

const KINDS: readonly unknown[] = ['server', 'client', 'bidi'];

/**
 * The method's shape, decided once at registration (and when a proxy is made): `@Method({ stream })` when
 * given, else `'server'` for an `async *` method, else undefined (unary).
 */
export function streamKindOf(handler: unknown, declared: unknown): StreamKind | undefined {
  if (KINDS.includes(declared)) return declared as StreamKind;
  return typeof handler === 'function' && handler.constructor.name === 'AsyncGeneratorFunction' ? 'server' : undefined;
}

/** Whether the caller sends a stream of items (the method's first parameter). */
export function takesInputStream(kind: StreamKind | undefined): boolean {
  return kind === 'client' || kind === 'bidi';
}

/**
 * Refuses a `stream` option that is not one of the three shapes, and a client or bidi stream without a first
 * parameter to stream, whose first parameter is also its shard key, or a client stream written as `async *`.
 * `wireParams`: the parameters besides `@Ctx`.
 */
export function checkStreamOption(
  where: string,
  stream: unknown,
  wireParams: number,
  shardKeyIndex: number | undefined,
  handler: unknown,
): void {
  if (stream === undefined) return;
  if (!KINDS.includes(stream)) {
    const got = typeof stream === 'string' ? `'${stream}'` : String(stream);
    throw new ServiceDefinitionError(`${where}: @Method stream must be 'server', 'client' or 'bidi', got ${got}`);
  }
  if (stream === 'server') return;
  if (stream === 'client' && streamKindOf(handler, undefined) === 'server') {
    throw new ServiceDefinitionError(
      `${where}: an async * method answers with many items, so it cannot be a client stream (one result); use stream: 'bidi'`,
    );
  }
  if (wireParams === 0) {
    throw new ServiceDefinitionError(
      `${where}: @Method({ stream: '${stream}' }) streams the method's first parameter, but it has no parameter besides @Ctx`,
    );
  }
  if (shardKeyIndex === 0) {
    throw new ServiceDefinitionError(`${where}: the shard key cannot be the first parameter of a ${stream} stream (the streamed one)`);
  }
}
