/** Whether a listen address can only be reached from this machine. `0.0.0.0`, `::` and any other address can be reached from outside. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || /^::ffff:127\./.test(h);
}

/**
 * The outside surfaces served on `host` with nothing guarding them (no global interceptor), for the startup
 * warning; empty when the address is loopback or something guards them.
 */
export function unguardedSurfaces(host: string, guarded: boolean, surfaces: Readonly<Record<string, boolean>>): string[] {
  if (guarded || isLoopback(host)) return [];
  return Object.entries(surfaces)
    .filter(([, on]) => on)
    .map(([name]) => name);
}
