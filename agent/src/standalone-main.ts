// The standalone package's entry point (bundled into litepred-agent.mjs).
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
