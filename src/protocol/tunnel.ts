/**
 * The HTTP tunnel to the binary protocol: a client sends `CONNECT /myrpc` to a server's HTTP port, and once
 * answered `200` both sides speak the binary protocol on that connection (docs/HTTP.md).
 */

/** The path a CONNECT request names to tunnel the binary protocol through the server's HTTP port. */
export const TUNNEL_PATH = '/myrpc';

/** The request a client sends first on a tunnelled connection. */
export function tunnelRequest(hostPort: string): string {
  return `CONNECT ${TUNNEL_PATH} HTTP/1.1\r\nHost: ${hostPort}\r\n\r\n`;
}

/**
 * Reads the server's answer to the CONNECT: undefined while the head is incomplete, the status line when the
 * server refused, else the bytes after the head (the start of the binary protocol).
 */
export function readTunnelAnswer(received: Buffer): Buffer | string | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const status = received.toString('latin1', 0, end).split('\r\n')[0];
  if (!/^HTTP\/1\.[01] 200\b/.test(status)) return status;
  return received.subarray(end + 4);
}
