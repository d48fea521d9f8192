// `litepred <noun> <verb>`: a yargs command whose subcommands each have their own options, examples
// and --help (one command with an action positional listed every action's flags under each).
import type { Argv, CommandModule } from 'yargs';

// yargs types a command by its builder's result; a group holds commands of different argument types.
type AnyCommand = CommandModule<any, any>;

export function commandGroup(noun: string, describe: string, subcommands: AnyCommand[]): CommandModule {
  const verbs = subcommands.map((c) => String(c.command).split(' ')[0]);
  return {
    command: noun,
    describe,
    builder: (y: Argv) =>
      subcommands.reduce((acc: Argv, c) => acc.command(c), y).demandCommand(1, `name a ${noun} command: ${verbs.join(', ')}`),
    handler: () => undefined,
  };
}
