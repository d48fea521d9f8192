// The feature vector a latency predictor sees: the kernel's own fields, then FLOPS and PARAMS in
// millions, as LitePred and nn-Meter feed their predictors (HW, CIN, COUT, KERNEL_SIZE, STRIDES,
// FLOPS, PARAMS for convolutions), then the optional fields (GROUPS of a grouped conv).
import type { ConfigField, KernelConfig } from './config.js';
import { activationBytes, getKernelSpec, resolveConfig } from './registry.js';

export function featureNames(type: string): string[] {
  const spec = getKernelSpec(type);
  return [...spec.required, 'FLOPS', 'PARAMS', ...(Object.keys(spec.optional ?? {}) as ConfigField[])];
}

export function featureVector(config: KernelConfig): number[] {
  const c = resolveConfig(config);
  const spec = getKernelSpec(c.type);
  const optional = Object.keys(spec.optional ?? {}) as ConfigField[];
  return [...spec.required.map((f) => c[f]), spec.flops(c) / 1e6, spec.params(c) / 1e6, ...optional.map((f) => c[f])];
}

/** FLOPs, parameters and activation bytes of a config. */
export function kernelCost(config: KernelConfig): { flops: number; params: number; activationBytes: number } {
  const c = resolveConfig(config);
  const spec = getKernelSpec(c.type);
  return { flops: spec.flops(c), params: spec.params(c), activationBytes: activationBytes(c) };
}
