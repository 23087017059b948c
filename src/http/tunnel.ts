/** The path a CONNECT request names to tunnel the binary protocol through the server's HTTP port. */
export const TUNNEL_PATH = '/myrpc';
