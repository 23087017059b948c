/** A tiny argv parser: positionals, `--flag value`, `--flag=value`, and boolean `--flag`. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Flags that never take a value, wherever they stand: `describe --json host:port Svc` must not eat `host:port`. */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['help', 'h', 'json']);

export function parseArgs(argv: readonly string[], booleanFlags: ReadonlySet<string> = BOOLEAN_FLAGS): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const name = arg.replace(/^--?/, '');
    const eq = name.indexOf('=');
    if (eq >= 0) flags.set(name.slice(0, eq), name.slice(eq + 1));
    else if (booleanFlags.has(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags.set(name, true);
    else flags.set(name, argv[++i]);
  }
  return { positionals, flags };
}

/** Thrown for a usage mistake: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

export function intFlag(args: ParsedArgs, name: string, fallback: number): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === true || !Number.isInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number, got '${String(raw)}'`);
  return n;
}

export function stringFlag(args: ParsedArgs, name: string, fallback: string): string {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  if (raw === true) throw new UsageError(`--${name} takes a value`);
  return raw;
}
