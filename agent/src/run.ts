// Running an agent as a process: start, wait, and stop cleanly on SIGINT/SIGTERM. Shared by
// `litepred agent` and the standalone `litepred-agent run`.
import { Agent, type AgentOptions } from './agent.js';

/** How long a stopping agent waits for the kernel in hand. */
export const STOP_GRACE_MS = 1500;

export async function runAgent(options: AgentOptions, say: (line: string) => void = (l) => console.error(l)): Promise<void> {
  const agent = new Agent(options);
  // A stop finishes the kernel being measured if it ends within STOP_GRACE_MS, else abandons it:
  // a native run cannot be interrupted, and its task goes back to the pool when the socket closes.
  const stop = (signal: string) => {
    void agent.stop();
    setTimeout(() => {
      say(`[agent] ${signal}: stopped; the kernel being measured is abandoned (the coordinator hands its task to the next lease)`);
      process.exit(0);
    }, STOP_GRACE_MS).unref();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  if (options.log) say('[agent] calibrating the profiler...');
  await agent.start();
  await agent.done;
}
