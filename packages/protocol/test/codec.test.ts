import { describe, expect, it } from 'vitest';
import { encode, encodeLease, parseCoordinatorMessage, type WireKernelConfig } from '@litepred/protocol';

describe('encodeLease', () => {
  const protocol = { warmupRuns: 10, warmupMs: 20, minRuns: 30, maxRuns: 1000, maxMs: 2000, targetPrecision: 0.02 };
  const configs: WireKernelConfig[] = [
    { type: 'conv-bn-relu', HW: 56, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 2 },
    { type: 'relu', HW: 7, CIN: 3 },
  ];
  const lease = { leaseId: '6f0c5b9e-1b2a-4a8e-9d1e-0b6a2c3d4e5f', campaignId: 'c"ampaign\\1', protocol, expiresAt: 1_796_000_000_123 };

  it('gives the same text as encode() of the same lease', () => {
    const tasks = configs.map((config, i) => ({ taskId: 10 + i, config }));
    const text = encodeLease(
      lease,
      tasks.map((t) => ({ taskId: t.taskId, configJson: JSON.stringify(t.config) })),
    );
    expect(text).toBe(encode({ type: 'lease', ...lease, tasks }));
  });

  it('is a lease the agent side parses back to the same message', () => {
    const text = encodeLease(lease, [{ taskId: 3, configJson: JSON.stringify(configs[0]) }]);
    const parsed = parseCoordinatorMessage(text);
    expect(parsed).toEqual({ ok: true, message: { type: 'lease', ...lease, tasks: [{ taskId: 3, config: configs[0] }] } });
  });
});

describe('measurement protocol rounds', () => {
  const base = {
    type: 'lease',
    leaseId: 'l1',
    campaignId: 'c1',
    expiresAt: 1,
    tasks: [{ taskId: 1, config: { type: 'relu', HW: 8, CIN: 8 } }],
  };
  const protocol = { warmupRuns: 1, warmupMs: 0, minRuns: 10, maxRuns: 40, maxMs: 200, targetPrecision: 0.05 };

  it('is optional, and a positive integer up to 20 when given', () => {
    expect(parseCoordinatorMessage(JSON.stringify({ ...base, protocol })).ok).toBe(true);
    expect(parseCoordinatorMessage(JSON.stringify({ ...base, protocol: { ...protocol, rounds: 3 } }))).toMatchObject({
      ok: true,
      message: { protocol: { rounds: 3 } },
    });
    for (const rounds of [0, 1.5, 21]) {
      expect(parseCoordinatorMessage(JSON.stringify({ ...base, protocol: { ...protocol, rounds } }))).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^lease: protocol\.rounds: /),
      });
    }
  });
});

describe('kernel configs on the wire', () => {
  const lease = (config: Record<string, unknown>) =>
    JSON.stringify({
      type: 'lease',
      leaseId: 'l1',
      campaignId: 'c1',
      expiresAt: 1,
      protocol: { warmupRuns: 1, warmupMs: 0, minRuns: 10, maxRuns: 40, maxMs: 200, targetPrecision: 0.05 },
      tasks: [{ taskId: 1, config }],
    });

  it('takes the kernel library fields, a rectangular width and an architecture task SEED', () => {
    expect(parseCoordinatorMessage(lease({ type: 'conv-relu', HW: 48, W: 192, CIN: 3, COUT: 16, KERNEL_SIZE: 3, STRIDES: 2 })).ok).toBe(
      true,
    );
    expect(parseCoordinatorMessage(lease({ type: 'arch:mobilenetv2', SEED: 7 })).ok).toBe(true);
  });

  it('refuses a field the kernel library does not have, and a field that is not an integer', () => {
    const unknown = parseCoordinatorMessage(lease({ type: 'relu', HW: 8, CIN: 8, CINN: 8 }));
    expect(unknown.ok).toBe(false);
    expect(JSON.stringify(unknown)).toContain('CINN');
    expect(parseCoordinatorMessage(lease({ type: 'relu', HW: 8.5, CIN: 8 })).ok).toBe(false);
    expect(parseCoordinatorMessage(lease({ type: 'relu', HW: '8', CIN: 8 })).ok).toBe(false);
  });
});
