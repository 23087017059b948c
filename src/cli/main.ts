#!/usr/bin/env node
import 'reflect-metadata';
import { COMMON_FLAGS, parseArgs, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import {
  CALL_FLAGS,
  CALL_HELP,
  callCommand,
  DESCRIBE_FLAGS,
  DESCRIBE_HELP,
  describeCommand,
  EXIT,
  LIST_FLAGS,
  LIST_HELP,
  listCommand,
} from './client-commands';
import { REGISTRY_FLAGS, REGISTRY_HELP, registryCommand } from './registry-command';

const HELP = `myrpc <command> [options]

Commands:
  list <host:port>                          services and methods of a server
  describe <host:port> <Service>            a service's methods, parameter types, shard key, timeouts
  call <host:port> Service.method '<json>'  call a method (grpcurl-like), print the JSON result
  registry [--port N]                       run the built-in service registry

Run 'myrpc <command> --help' for a command's options.
Exit codes: 0 ok, 1 the call failed (printed as CODE: message), 2 usage error, 3 server unreachable,
4 deadline exceeded.`;

interface Command {
  help: string;
  /** The flags this command accepts besides --help; any other flag is a usage error. */
  flags: FlagSpecs;
  run(args: ParsedArgs, out: (line: string) => void, err: (line: string) => void): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  list: { help: LIST_HELP, flags: LIST_FLAGS, run: listCommand },
  describe: { help: DESCRIBE_HELP, flags: DESCRIBE_FLAGS, run: describeCommand },
  call: { help: CALL_HELP, flags: CALL_FLAGS, run: callCommand },
  registry: { help: REGISTRY_HELP, flags: REGISTRY_FLAGS, run: registryCommand },
};

const ALL_FLAGS: FlagSpecs = Object.assign({}, COMMON_FLAGS, ...Object.values(COMMANDS).map((c) => c.flags)) as FlagSpecs;

/** The command name: the first positional, found with every command's flags known so values are not taken for it. */
function commandName(argv: readonly string[]): string | undefined {
  try {
    return parseArgs(argv, ALL_FLAGS).positionals[0];
  } catch {
    return argv.find((a) => Object.hasOwn(COMMANDS, a));
  }
}

/** Runs the CLI; returns the exit code (docs/CLI.md). `out` and `err` print one line each. */
export async function main(
  argv: readonly string[],
  out = (l: string) => console.log(l),
  err = (l: string) => console.error(l),
): Promise<number> {
  const name = commandName(argv);
  const command = name === undefined || !Object.hasOwn(COMMANDS, name) ? undefined : COMMANDS[name];
  if (!command) {
    if (name === undefined || name === 'help') {
      out(HELP);
      return name === 'help' || argv.includes('--help') || argv.includes('-h') ? EXIT.OK : EXIT.USAGE;
    }
    err(`myrpc: unknown command '${name}'\n\n${HELP}`);
    return EXIT.USAGE;
  }
  try {
    const args = parseArgs(argv, { ...COMMON_FLAGS, ...command.flags });
    args.positionals.splice(args.positionals.indexOf(name as string), 1);
    if (args.flags.has('help')) {
      out(command.help);
      return EXIT.OK;
    }
    return await command.run(args, out, err);
  } catch (e) {
    return reportFailure(name as string, command, e, err);
  }
}

function reportFailure(name: string, command: Command, e: unknown, err: (line: string) => void): number {
  if (e instanceof UsageError) {
    err(`myrpc ${name}: ${e.message}\n\n${command.help}`);
    return EXIT.USAGE;
  }
  const code = (e as { code?: unknown }).code;
  err(`myrpc ${name}: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`);
  if (code === 'UNAVAILABLE') return EXIT.UNREACHABLE;
  if (code === 'DEADLINE_EXCEEDED') return EXIT.DEADLINE;
  return EXIT.CALL_FAILED;
}

if (require.main === module) {
  // exitCode, not process.exit(): exit() right after console.log cuts output through a pipe at 64 KiB.
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
