// What a NAS search space is here: something that samples architectures, each a list of
// kernel-library layers that is both its kernel list and (built) its runnable ONNX model.
import { buildNetworkModel, isKernelLayer, type BuiltModel, type KernelConfig, type NetworkLayer, type Shape } from '@litepred/kernels';
import { rng, type Rng } from './rng.js';

export interface Architecture {
  space: string;
  /** `<space>-<seed>`: sampling the space with this seed gives this architecture again. */
  id: string;
  /** The choices made (resolution, widths, depths, per-block ops), for people to read. */
  choices: Record<string, unknown>;
  inputShape: Shape;
  layers: NetworkLayer[];
}

export interface SearchSpace {
  name: string;
  title: string;
  /** Where the space is defined, and what this version leaves out. */
  source: string;
  resolutions: readonly number[];
  sample(r: Rng): Omit<Architecture, 'space' | 'id'>;
}

export function sampleArchitecture(space: SearchSpace, seed: number): Architecture {
  return { space: space.name, id: `${space.name}-${seed}`, ...space.sample(rng(seed)) };
}

/** The architecture's kernels, in network order. */
export function kernelsOf(arch: Architecture): KernelConfig[] {
  return arch.layers.filter(isKernelLayer).map((l) => l.config);
}

export function buildArchitectureModel(arch: Architecture): BuiltModel {
  return buildNetworkModel(arch.layers, arch.inputShape);
}
