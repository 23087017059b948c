import { parseArgs as parseNodeArgs } from 'node:util';

/** One flag a command accepts, in `node:util` parseArgs form. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
}

/** The flags of one command, by long name. Commands add theirs to {@link COMMON_FLAGS}. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** Parsed command line: the positionals in order and each given flag (`true` for a boolean one). */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Thrown for a usage mistake: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

/** Flags every command accepts. */
export const COMMON_FLAGS: FlagSpecs = { help: { type: 'boolean', short: 'h' } };

/**
 * Parses `argv` strictly: flags may stand anywhere (before, between or after positionals), `--name value` and
 * `--name=value` both work, `--` ends the flags, and a flag not in `specs` or a missing value is a UsageError.
 */
export function parseArgs(argv: readonly string[], specs: FlagSpecs = COMMON_FLAGS): ParsedArgs {
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args: [...argv], options: { ...specs }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(usageMessage(err as Error & { code?: string }));
  }
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    // A repeated string flag keeps its last value, as most CLIs do.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined && last !== false) flags.set(name, last === true ? true : String(last));
  }
  return { positionals: parsed.positionals, flags };
}

/** node:util's messages, without their advice to use `--` or `strict: false`, which is for programmers. */
function usageMessage(err: Error & { code?: string }): string {
  const first = err.message.split('\n')[0];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return first.replace(/\. To specify a positional argument.*$/, '');
  return first.replace(/\. Did you forget to specify the option argument.*$/, '');
}

export function intFlag(args: ParsedArgs, name: string, fallback: number): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === true || !/^\d+$/.test(raw) || !Number.isSafeInteger(n))
    throw new UsageError(`--${name} takes a whole number, got '${String(raw)}'`);
  return n;
}

export function stringFlag(args: ParsedArgs, name: string, fallback: string): string {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  if (raw === true) throw new UsageError(`--${name} takes a value`);
  return raw;
}
