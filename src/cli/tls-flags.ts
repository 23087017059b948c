import { readFileSync } from 'node:fs';
import type { TlsClientOptions } from '../transport/tls-options';
import { stringFlag, UsageError, type FlagSpecs, type ParsedArgs } from './args';

/** The TLS flags of the client commands, in parseArgs form. */
export const TLS_FLAGS: FlagSpecs = { 'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } };

export const TLS_FLAGS_HELP = `  --tls-ca FILE    speak TLS, trusting this CA (PEM); without it, TLS flags trust the public roots
  --tls-cert FILE  client certificate for mTLS (PEM), with --tls-key
  --tls-key FILE   key of the client certificate (PEM)`;

/** The client's `tls` option from `--tls-ca`, `--tls-cert`, `--tls-key`; undefined when none is given (plain TCP). */
export function tlsFromFlags(args: ParsedArgs): TlsClientOptions | undefined {
  const files = { ca: read(args, 'tls-ca'), cert: read(args, 'tls-cert'), key: read(args, 'tls-key') };
  if (files.ca === undefined && files.cert === undefined && files.key === undefined) return undefined;
  if ((files.cert === undefined) !== (files.key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return files;
}

function read(args: ParsedArgs, flag: string): string | undefined {
  const path = stringFlag(args, flag, '');
  if (path === '') return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
