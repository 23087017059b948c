import type { RpcServer } from '../server/rpc-server';
import { readEventLoopDelayMs } from './event-loop-delay';
import type { Registrar, Registration } from './registrar';

/**
 * Registers a listening server, reports its load with each renewal, and deregisters it first thing when the
 * server closes (before GOAWAY), so clients stop picking it while its in-flight calls drain.
 */
export async function announce(server: RpcServer, registrar: Registrar, registration: Omit<Registration, 'host' | 'port'> & Partial<Pick<Registration, 'host' | 'port'>>): Promise<void> {
  const address = server.address();
  if (!address && (registration.host === undefined || registration.port === undefined)) {
    throw new Error('announce() needs a listening server, or host and port');
  }
  const host = registration.host ?? (address as { address: string }).address;
  const port = registration.port ?? (address as { port: number }).port;
  readEventLoopDelayMs();
  await registrar.register({ ...registration, host, port }, () => ({ inFlight: server.inFlight, eventLoopDelayMs: readEventLoopDelayMs() }));
  server.addShutdownHook(() => registrar.deregister());
}
