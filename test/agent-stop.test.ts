// An agent stops promptly when told to, even in the middle of a kernel that would take a minute,
// and its task goes back to the coordinator for the next lease.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Coordinator } from '@litepred/coordinator';
import { agent, kill, tempDir, waitFor, type Proc } from './helpers/fleet.js';

const procs: Proc[] = [];
let c: Coordinator | undefined;
afterAll(async () => {
  for (const p of procs) await kill(p, 'SIGKILL');
  await c?.stop();
});

describe('agent stop', () => {
  it('exits soon after SIGTERM while a long kernel is being measured, and the task is leased again later', async () => {
    const dir = tempDir();
    c = await Coordinator.start({ database: join(dir, 'fleet.sqlite'), port: 0 });
    const { token } = c.store.createEnrolmentToken();
    const p = agent(c.address.ws, join(dir, 'agent.json'), token);
    procs.push(p);
    const deviceId = await waitFor('the agent online', () => c!.onlineDevices()[0], 60_000);
    // Tens of ms a run, and a protocol that asks for 2,000 of them: a minute or more of measuring.
    const campaign = c.store.createCampaign({
      name: 'long',
      deviceIds: [deviceId],
      configs: [{ type: 'conv-bn-relu', HW: 56, CIN: 128, COUT: 128, KERNEL_SIZE: 3, STRIDES: 1 }],
      protocol: { warmupRuns: 1, warmupMs: 0, minRuns: 2000, maxRuns: 2000, maxMs: 120_000, targetPrecision: 1e-6 },
    });
    await waitFor('the task leased', () => c!.store.taskStates(campaign.id).leased === 1, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const signalled = Date.now();
    expect(await kill(p, 'SIGTERM')).toBe(0);
    // Well before the kernel would have finished; the grace is under 2 s, the rest is a loaded machine's slack.
    expect(Date.now() - signalled).toBeLessThan(20_000);
    expect(p.output()).toMatch(/SIGTERM: stopped; the kernel being measured is abandoned/);
    await waitFor('the task handed back', () => c!.store.taskStates(campaign.id).pending === 1, 10_000);
  });
});
