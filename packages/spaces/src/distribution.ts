// A space's kernel-config distribution: sample architectures, count each distinct kernel config.
import { compactConfig, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { kernelsOf, sampleArchitecture, type SearchSpace } from './space.js';

export interface ConfigFrequency {
  config: KernelConfig;
  /** How many times it occurs in the sampled architectures. */
  count: number;
  /** count / all kernels of its type in the sample. */
  freq: number;
}

/** Distinct configs per kernel type with their frequencies, over `n` architectures from seed `seed`. */
export function kernelDistribution(spaces: readonly SearchSpace[], n: number, seed = 1): Map<string, ConfigFrequency[]> {
  const counts = new Map<string, Map<string, { config: KernelConfig; count: number }>>();
  for (const space of spaces) {
    for (let i = 0; i < n; i++) {
      for (const raw of kernelsOf(sampleArchitecture(space, seed * 100_003 + i))) {
        const config = compactConfig(resolveConfig(raw));
        const byType = counts.get(config.type) ?? new Map();
        counts.set(config.type, byType);
        const key = JSON.stringify(config);
        const entry = byType.get(key) ?? { config, count: 0 };
        entry.count++;
        byType.set(key, entry);
      }
    }
  }
  const out = new Map<string, ConfigFrequency[]>();
  for (const [type, byType] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    const total = [...byType.values()].reduce((s, e) => s + e.count, 0);
    out.set(
      type,
      [...byType.values()].sort((a, b) => b.count - a.count).map((e) => ({ ...e, freq: e.count / total })),
    );
  }
  return out;
}
