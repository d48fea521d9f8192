// The feature vector a latency predictor sees: the kernel's own fields, then FLOPS and PARAMS in
// millions, as LitePred and nn-Meter feed their predictors (HW, CIN, COUT, KERNEL_SIZE, STRIDES,
// FLOPS, PARAMS for convolutions).
import type { ConfigField, KernelConfig } from './config.js';
import { activationBytes, getKernelSpec, resolveConfig } from './registry.js';

export function featureNames(type: string): string[] {
  const spec = getKernelSpec(type);
  return [...spec.required, ...(Object.keys(spec.optional ?? {}) as ConfigField[]), 'FLOPS', 'PARAMS'];
}

export function featureVector(config: KernelConfig): number[] {
  const c = resolveConfig(config);
  const spec = getKernelSpec(c.type);
  const fields = [...spec.required, ...(Object.keys(spec.optional ?? {}) as ConfigField[])];
  return [...fields.map((f) => c[f]), spec.flops(c) / 1e6, spec.params(c) / 1e6];
}

/** FLOPs, parameters and activation bytes of a config. */
export function kernelCost(config: KernelConfig): { flops: number; params: number; activationBytes: number } {
  const c = resolveConfig(config);
  const spec = getKernelSpec(c.type);
  return { flops: spec.flops(c), params: spec.params(c), activationBytes: activationBytes(c) };
}
