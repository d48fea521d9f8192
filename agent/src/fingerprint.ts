// What a device is, as the coordinator records it at enrolment.
import { cpus, arch, hostname, release, totalmem, type } from 'node:os';
import type { Fingerprint } from '@litepred/protocol';
import type { RuntimeInfo } from '@litepred/profiler';

export function nodeFingerprint(runtime: RuntimeInfo): Fingerprint {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() || 'unknown',
    cores: Math.max(1, cpu.length),
    arch: arch(),
    os: `${type()} ${release()}`,
    memoryBytes: totalmem(),
    runtime: { backend: runtime.backend, threads: runtime.threads, graphOptimizationLevel: runtime.graphOptimizationLevel },
    runtimeVersion: runtime.runtimeVersion,
    executionProvider: runtime.executionProvider,
    hostname: hostname(),
  };
}
