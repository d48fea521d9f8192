// The litepred command line: a thin layer over the packages' programmatic APIs.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { demoCommand } from './commands/demo.js';
import { kernelsCommand } from './commands/kernels.js';
import { profileCommand } from './commands/profile.js';
import { agentCommand } from './commands/agent.js';
import { spacesCommand } from './commands/spaces.js';
import { sampleCommand } from './commands/sample.js';
import { decomposeCommand } from './commands/decompose.js';
import { adaptationCommand, adaptCommand, predictCommand, predictorCommand } from './commands/predictors.js';
import { campaignCommand, coordinatorCommand, deviceCommand, resultsCommand, tokenCommand } from './commands/fleet.js';

await yargs(hideBin(process.argv))
  .scriptName('litepred')
  .usage('$0 <command> [options]\n\nPredict how fast a neural network runs on an edge device from a few hundred kernel measurements.')
  .command(kernelsCommand)
  .command(profileCommand as never)
  .command(spacesCommand)
  .command(sampleCommand as never)
  .command(decomposeCommand as never)
  .command(demoCommand as never)
  .command(coordinatorCommand)
  .command(agentCommand as never)
  .command(tokenCommand as never)
  .command(deviceCommand as never)
  .command(campaignCommand as never)
  .command(resultsCommand as never)
  .command(adaptCommand as never)
  .command(adaptationCommand as never)
  .command(predictorCommand as never)
  .command(predictCommand as never)
  .demandCommand(1, 'name a command (see --help)')
  .strict()
  .recommendCommands()
  .fail((message, error, y) => {
    // Bad input gets one clear line and exit code 2; no stack trace for a user's mistake. A command
    // missing its argument (`litepred token revoke`) also gets that command's usage.
    const text = error?.message ?? message;
    if (!error && /^Not enough non-option arguments/.test(message)) {
      y.showHelp((usage) => console.error(`${usage}\n\nlitepred: an argument is missing: the command takes the one in <> above`));
      process.exit(2);
    }
    console.error(`litepred: ${text}`);
    if (!error) console.error('Run with --help for usage.');
    process.exit(2);
  })
  .help()
  .parseAsync()
  .catch((error: Error) => {
    console.error(`litepred: ${error.message}`);
    process.exit(2);
  });
