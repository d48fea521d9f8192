// What bench:fleet's simulated agents say: a fingerprint and a realistic measurement (~1.2 kB of
// JSON), shared by the simulated fleet (fleet.ts) and the probe agents (fleet-probe.ts).
import type { Fingerprint, WireMeasurement } from '@litepred/protocol';

export function simulatedFingerprint(cpuModel: string): Fingerprint {
  return {
    cpuModel,
    cores: 4,
    arch: 'arm64',
    os: 'Linux',
    memoryBytes: 4e9,
    runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
    runtimeVersion: '1.30.0',
    executionProvider: 'cpu',
  };
}

const stats = { n: 30, median: 0.5, p10: 0.48, p90: 0.55, min: 0.47, max: 0.7, mean: 0.51, std: 0.02, iqm: 0.5, q1mean: 0.48 };

export const measurementFor = (config: WireMeasurement['config'], fingerprint: Fingerprint): WireMeasurement => ({
  config,
  latencyMs: 0.5,
  statistic: 'median',
  kernel: stats,
  wall: stats,
  boundary: { reorderInMs: 0.01, reorderOutMs: 0.01, sinkMs: 0.004, runOverheadMs: 0.05, coldWeightsMs: 0.01 },
  method: 'node-profile',
  profileNodeOverheadUs: 3,
  warmupRuns: 10,
  converged: true,
  sessionCreateMs: 2,
  measuredAt: new Date().toISOString(),
  runtime: { ...fingerprint.runtime, runtimeVersion: fingerprint.runtimeVersion, executionProvider: fingerprint.executionProvider },
  drift: { ratioBefore: 1, ratioAfter: 1.01, flagged: false },
});
