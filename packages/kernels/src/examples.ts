// A small valid config of every kernel type (MobileNetV2/ViT-Tiny sized), for listings, smoke
// tests and the quick-start demo.
import type { ConfigField, KernelConfig } from './config.js';
import { getKernelSpec } from './registry.js';

const BY_FAMILY: Record<string, Partial<Record<ConfigField, number>>> = {
  conv: { HW: 28, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 1 },
  dwconv: { HW: 28, CIN: 96, KERNEL_SIZE: 3, STRIDES: 1 },
  fc: { CIN: 1280, COUT: 1000 },
  pooling: { HW: 56, CIN: 64, KERNEL_SIZE: 3, STRIDES: 2 },
  elementwise: { HW: 28, CIN: 64, CIN1: 32, CIN2: 32 },
  block: { HW: 14, CIN: 96 },
  transformer: { L: 197, CIN: 192, COUT: 768, HEADS: 3 },
};

export function exampleConfig(type: string): KernelConfig {
  const spec = getKernelSpec(type);
  const values = BY_FAMILY[spec.family]!;
  const config: Record<string, number | string> = { type };
  for (const f of spec.required) config[f] = values[f]!;
  return config as KernelConfig;
}
