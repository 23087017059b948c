import type { IncomingMessage } from 'node:http';
import { compose, type ServerInterceptor } from '../interceptors/interceptor';
import { InterceptedCall } from '../interceptors/server-chain';
import type { MethodDefinition } from '../metadata/service-definition';
import { ServerCallContext } from '../server/call-context';
import { peerIdentityOf } from '../transport/peer-identity';

/**
 * The read-only pages of the HTTP port, as interceptors see them: service `MyRpcHttp`, method `debugPage`
 * (the page and its stats JSON) or `metrics`, `meta: { surface: true }`, no arguments.
 */
export const SURFACE_SERVICE = 'MyRpcHttp';
export type SurfaceMethod = 'debugPage' | 'metrics';

/** How long a page may take through the interceptors, ms (a `verify` that calls out, say). */
const SURFACE_TIMEOUT_MS = 10_000;

const DEFINITIONS: Record<SurfaceMethod, MethodDefinition> = {
  debugPage: surfaceDefinition('debugPage'),
  metrics: surfaceDefinition('metrics'),
};

function surfaceDefinition(name: SurfaceMethod): MethodDefinition {
  return { service: SURFACE_SERVICE, name, options: { meta: { surface: true } }, paramTypes: [], contextIndex: -1 };
}

/**
 * Runs the server's global interceptors around rendering a page, so the auth that guards calls guards the
 * pages too. Resolves with the body; rejects with what an interceptor threw. No interceptors: renders at once.
 */
export function throughInterceptors(
  interceptors: readonly ServerInterceptor[],
  method: SurfaceMethod,
  req: IncomingMessage,
  metadata: Record<string, string>,
  render: () => string,
): Promise<unknown> {
  if (interceptors.length === 0) return Promise.resolve(render());
  const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
  const context = new ServerCallContext(
    SURFACE_SERVICE,
    method,
    Date.now() + SURFACE_TIMEOUT_MS,
    metadata,
    peer,
    peerIdentityOf(req.socket),
  );
  const definition = DEFINITIONS[method];
  const call = new InterceptedCall(SURFACE_SERVICE, method, definition, definition.options.meta ?? {}, [], context, 'http');
  try {
    return compose(interceptors, async () => render())(call);
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
