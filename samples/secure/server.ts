import 'reflect-metadata';
import { apiKeys, bearerAuth, mapErrors, RpcCode, RpcServer, type TlsServerOptions } from 'myrpc';
import { AccountNotFound, AccountsService } from './accounts';

/** API keys and who they stand for. */
export interface SecureKeys {
  admin: string;
  app: string;
}

/**
 * An RpcServer safe to expose: TLS (mTLS when `tls.requestCert`), bearer-token auth in front of every call and
 * page, roles from `@Method({ meta })`, domain errors mapped to codes.
 */
export async function startSecureServer(tls: TlsServerOptions, keys: SecureKeys): Promise<{ server: RpcServer; port: number }> {
  const server = new RpcServer({
    tls,
    interceptors: [
      bearerAuth({ verify: apiKeys({ [keys.admin]: { name: 'ops', roles: ['admin'] }, [keys.app]: { name: 'app', roles: [] } }) }),
      mapErrors([[AccountNotFound, RpcCode.NOT_FOUND]]),
    ],
  });
  server.register(new AccountsService());
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port };
}
