import type { RpcServer } from '../server/rpc-server';
import { readEventLoopDelayMs } from './event-loop-delay';
import type { Registrar, Registration } from './registrar';

/** What `announce` registers: the registration without host and port (taken from the server), plus where clients reach it. */
export type AnnounceOptions = Omit<Registration, 'host' | 'port'> &
  Partial<Pick<Registration, 'host' | 'port'>> & {
    /**
     * The address clients reach this server at: `host` or `host:port` (`[v6]:port` for IPv6). Needed when the
     * server listens on a wildcard address (`0.0.0.0`, `::`), which no client can dial. `host`/`port`
     * given on their own mean the same. Default: the address the server listens on.
     */
    advertise?: string;
  };

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '::0', '0:0:0:0:0:0:0:0', '']);

/**
 * Registers a listening server, reports its load with each renewal, and deregisters it first thing when the
 * server closes (before GOAWAY), so clients stop picking it while its in-flight calls drain. Throws a
 * `RangeError` for a wildcard address (a server listening on `0.0.0.0` or `::` without `advertise`).
 */
export async function announce(server: RpcServer, registrar: Registrar, options: AnnounceOptions): Promise<void> {
  const { advertise, ...registration } = options;
  const { host, port } = advertisedAddress(server, registration, advertise);
  readEventLoopDelayMs();
  await registrar.register({ ...registration, host, port }, () => ({
    inFlight: server.inFlight,
    eventLoopDelayMs: readEventLoopDelayMs(),
  }));
  server.addShutdownHook(() => registrar.deregister());
}

function advertisedAddress(
  server: RpcServer,
  registration: Partial<Pick<Registration, 'host' | 'port'>>,
  advertise: string | undefined,
): { host: string; port: number } {
  const listening = server.address() as { address: string; port: number } | null;
  const parsed = advertise === undefined ? {} : parseAdvertise(advertise);
  const host = parsed.host ?? registration.host ?? listening?.address;
  const port = parsed.port ?? registration.port ?? listening?.port;
  if (host === undefined || port === undefined) throw new Error('announce() needs a listening server, or host and port (or advertise)');
  if (WILDCARD_HOSTS.has(host)) {
    throw new RangeError(
      `announce(): the server listens on the wildcard address '${host}', which clients cannot dial; pass advertise: '<reachable host or IP>[:port]'`,
    );
  }
  return { host, port };
}

function parseAdvertise(advertise: string): { host?: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(advertise);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(advertise);
  const m = bracketed ?? plain ?? [advertise, advertise, undefined]; // a bare IPv6 address
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (m[1].length === 0 || (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))) {
    throw new RangeError(`announce(): advertise must be 'host' or 'host:port' with a port in 1-65535, got '${advertise}'`);
  }
  return { host: m[1], port };
}
