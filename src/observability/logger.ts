/**
 * The logger MyRPC writes to: pino's call shape (`logger.warn({ peer }, 'message')`), so a pino instance
 * plugs in as is. Silent by default.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
