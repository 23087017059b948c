import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { isIP } from 'node:net';

/**
 * TLS for the server's binary port and its HTTP port (HTTPS). `key` and `cert` (PEM) are required. For mTLS
 * give `ca` (the authority client certificates must chain to) and `requestCert: true`; a client without a
 * valid certificate is then refused during the TLS handshake (unless `rejectUnauthorized: false`).
 */
export interface TlsServerOptions {
  key: TlsOptions['key'];
  cert: TlsOptions['cert'];
  ca?: TlsOptions['ca'];
  /** Ask clients for a certificate (mTLS). Default false. */
  requestCert?: boolean;
  /** With `requestCert`: refuse clients whose certificate does not verify against `ca`. Default true. */
  rejectUnauthorized?: boolean;
  passphrase?: string;
  /** Lowest TLS version accepted. Default Node's (`TLSv1.2`). */
  minVersion?: TlsOptions['minVersion'];
  ciphers?: string;
}

/**
 * TLS for a client. `ca` trusts a private authority (default: Node's public roots); `cert` and `key` present a
 * client certificate (mTLS); `servername` is the name checked against the server's certificate and sent as SNI
 * (default: the host, when it is a name rather than an IP address).
 */
export interface TlsClientOptions {
  ca?: ConnectionOptions['ca'];
  cert?: ConnectionOptions['cert'];
  key?: ConnectionOptions['key'];
  servername?: string;
  passphrase?: string;
  /** Refuse a server whose certificate does not verify. Default true; false is for debugging only. */
  rejectUnauthorized?: boolean;
  minVersion?: ConnectionOptions['minVersion'];
}

/** Node's server options from ours; throws `RangeError` naming the option when the required parts are missing. */
export function serverTlsOptions(tls: TlsServerOptions, option = 'tls'): TlsOptions {
  if (typeof tls !== 'object' || tls === null) throw new RangeError(`${option} must be an object with key and cert`);
  if (!tls.key) throw new RangeError(`${option}.key is required (PEM private key)`);
  if (!tls.cert) throw new RangeError(`${option}.cert is required (PEM certificate)`);
  if (tls.requestCert && !tls.ca)
    throw new RangeError(`${option}.ca is required with ${option}.requestCert (the authority client certificates must chain to)`);
  return {
    key: tls.key,
    cert: tls.cert,
    ca: tls.ca,
    passphrase: tls.passphrase,
    requestCert: tls.requestCert === true,
    rejectUnauthorized: tls.requestCert === true ? tls.rejectUnauthorized !== false : false,
    minVersion: tls.minVersion,
    ciphers: tls.ciphers,
  };
}

/** Node's `tls.connect` options for one server. */
export function clientTlsOptions(tls: TlsClientOptions, host: string, port: number): ConnectionOptions {
  if (typeof tls !== 'object' || tls === null) throw new RangeError('tls must be an object ({} for the public roots)');
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new RangeError('tls.cert and tls.key go together (a client certificate needs its key)');
  const servername = tls.servername ?? (isIP(host) === 0 ? host : undefined);
  return {
    host,
    port,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    passphrase: tls.passphrase,
    servername,
    rejectUnauthorized: tls.rejectUnauthorized !== false,
    minVersion: tls.minVersion,
  };
}
