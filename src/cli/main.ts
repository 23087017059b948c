#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs, UsageError } from './args';
import { REGISTRY_HELP, registryCommand } from './registry-command';

const HELP = `myrpc <command> [options]

Commands:
  registry    run the built-in service registry

Run 'myrpc <command> --help' for a command's options.
Exit codes: 0 ok, 1 the operation failed (the error is printed with its code), 2 usage error.`;

interface Command {
  help: string;
  run(args: ReturnType<typeof parseArgs>, out: (line: string) => void): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
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
    return await command.run(args, out);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`myrpc ${name}: ${e.message}\n\n${command.help}`);
      return 2;
    }
    const code = (e as { code?: unknown }).code;
    err(`myrpc ${name}: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
