#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs, UsageError } from './args';
import { CALL_HELP, callCommand, DESCRIBE_HELP, describeCommand, EXIT, LIST_HELP, listCommand } from './client-commands';
import { REGISTRY_HELP, registryCommand } from './registry-command';

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
  run(args: ReturnType<typeof parseArgs>, out: (line: string) => void, err: (line: string) => void): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  list: { help: LIST_HELP, run: listCommand },
  describe: { help: DESCRIBE_HELP, run: describeCommand },
  call: { help: CALL_HELP, run: callCommand },
  registry: { help: REGISTRY_HELP, run: registryCommand },
};

export async function main(argv: readonly string[], out = (l: string) => console.log(l), err = (l: string) => console.error(l)): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`myrpc: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  const args = parseArgs(rest);
  if (args.flags.has('help') || args.flags.has('h')) {
    out(command.help);
    return 0;
  }
  try {
    return await command.run(args, out, err);
  } catch (e) {
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
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
