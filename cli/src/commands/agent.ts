// `litepred agent`: put this machine in the fleet.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { runAgent } from '@litepred/agent';

interface AgentArgs {
  coordinator: string;
  token?: string;
  state: string;
  backend: 'ort-node' | 'ort-web';
  threads: number;
  'opt-level': 'disabled' | 'basic' | 'extended' | 'all';
  capacity: number;
  quiet: boolean;
}

export const agentCommand: CommandModule<object, AgentArgs> = {
  command: 'agent',
  describe: 'run an agent: enrol (or re-connect) and profile what the coordinator leases',
  builder: (y: Argv) =>
    y
      .option('coordinator', { type: 'string', demandOption: true, describe: 'coordinator URL, e.g. ws://host:7420' })
      .option('token', { type: 'string', describe: 'enrolment token (first connection only; the identity is kept in --state)' })
      .option('state', {
        type: 'string',
        default: join(homedir(), '.litepred', 'agent.json'),
        describe: 'where the device identity is kept',
      })
      .option('backend', { choices: ['ort-node', 'ort-web'] as const, default: 'ort-node' as const })
      .option('threads', { type: 'number', default: 1 })
      .option('opt-level', { choices: ['disabled', 'basic', 'extended', 'all'] as const, default: 'all' as const })
      .option('capacity', { type: 'number', default: 8, describe: 'tasks per lease' })
      .option('quiet', { type: 'boolean', default: false }) as unknown as Argv<AgentArgs>,
  handler: async (a) => {
    await runAgent({
      coordinator: a.coordinator,
      token: a.token,
      stateFile: a.state,
      capacity: a.capacity,
      runtime: { backend: a.backend, threads: a.threads, graphOptimizationLevel: a['opt-level'] },
      log: a.quiet ? undefined : (line) => console.error(`[agent] ${line}`),
    });
  },
};
