import { describe, expect, it } from 'vitest';
import { idleRetryDelay } from '@litepred/agent-core';

describe('idle retry', () => {
  it("spreads the coordinator's retryMs over ±50%, so idle agents do not poll in lockstep", () => {
    expect(idleRetryDelay(1000, () => 0)).toBe(500);
    expect(idleRetryDelay(1000, () => 0.5)).toBe(1000);
    expect(idleRetryDelay(1000, () => 0.999)).toBe(1499);
    const delays = new Set(Array.from({ length: 50 }, () => idleRetryDelay(1000)));
    expect(delays.size).toBeGreaterThan(1);
    for (const d of delays) expect(d >= 500 && d < 1500).toBe(true);
  });
});
