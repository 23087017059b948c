import type { TLSSocket } from 'node:tls';

/** What a verified TLS client certificate says about the peer. */
export interface PeerIdentity {
  /** The certificate subject, e.g. `{ CN: 'billing', O: 'Acme' }`. */
  readonly subject: Readonly<Record<string, string>>;
  /** The subject alternative names as Node writes them, e.g. `['DNS:billing.internal', 'URI:spiffe://acme/billing']`. */
  readonly subjectAltNames: readonly string[];
  /** SHA-256 fingerprint of the certificate, colon-separated hex. */
  readonly fingerprint256: string;
}

/** The identity of a TLS socket's peer when its certificate was verified against the server's `ca`; else undefined. */
export function peerIdentityOf(socket: object): PeerIdentity | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function' || tls.authorized !== true) return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const subject: Record<string, string> = {};
  for (const [k, v] of Object.entries(cert.subject ?? {})) subject[k] = Array.isArray(v) ? v.join(', ') : String(v);
  const subjectAltNames = cert.subjectaltname ? cert.subjectaltname.split(/,\s*/) : [];
  return { subject, subjectAltNames, fingerprint256: cert.fingerprint256 };
}
