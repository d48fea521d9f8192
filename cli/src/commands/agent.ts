// `litepred agent`: put this machine in the fleet.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { Agent } from '@litepred/agent';

/** How long a stopping agent waits for the kernel in hand. */
const STOP_GRACE_MS = 1500;

interface AgentArgs { coordinator: string; token?: string; state: string; backend: 'ort-node' | 'ort-web'; threads: number; 'opt-level': 'disabled' | 'basic' | 'extended' | 'all'; capacity: number; quiet: boolean }

export const agentCommand: CommandModule<object, AgentArgs> = {
  command: 'agent',
  describe: 'run an agent: enrol (or re-connect) and profile what the coordinator leases',
  builder: (y: Argv) => y
    .option('coordinator', { type: 'string', demandOption: true, describe: 'coordinator URL, e.g. ws://host:7420' })
    .option('token', { type: 'string', describe: 'enrolment token (first connection only; the identity is kept in --state)' })
    .option('state', { type: 'string', default: join(homedir(), '.litepred', 'agent.json'), describe: 'where the device identity is kept' })
    .option('backend', { choices: ['ort-node', 'ort-web'] as const, default: 'ort-node' as const })
    .option('threads', { type: 'number', default: 1 })
    .option('opt-level', { choices: ['disabled', 'basic', 'extended', 'all'] as const, default: 'all' as const })
    .option('capacity', { type: 'number', default: 8, describe: 'tasks per lease' })
    .option('quiet', { type: 'boolean', default: false }) as unknown as Argv<AgentArgs>,
  handler: async (a) => {
    const agent = new Agent({
      coordinator: a.coordinator, token: a.token, stateFile: a.state, capacity: a.capacity,
      runtime: { backend: a.backend, threads: a.threads, graphOptimizationLevel: a['opt-level'] },
      log: a.quiet ? undefined : (line) => console.error(`[agent] ${line}`),
    });
    // A stop finishes the kernel being measured if it ends within STOP_GRACE_MS, else abandons it:
    // a native run cannot be interrupted, and its task goes back to the pool when the socket closes.
    const stop = (signal: string) => {
      void agent.stop();
      setTimeout(() => {
        console.error(`[agent] ${signal}: stopped; the kernel being measured is abandoned (the coordinator hands its task to the next lease)`);
        process.exit(0);
      }, STOP_GRACE_MS).unref();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (!a.quiet) console.error('[agent] calibrating the profiler...');
    await agent.start();
    await agent.done;
  },
};
