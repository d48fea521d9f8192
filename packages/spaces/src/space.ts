// What a NAS search space is here: something that samples architectures, each a list of
// kernel-library layers that is both its kernel list and (built) its runnable ONNX model.
import {
  buildNetworkModel,
  isKernelLayer,
  type BuiltModel,
  type KernelConfig,
  type LayerRef,
  type NetworkLayer,
  type Shape,
} from '@litepred/kernels';
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
  const arch = space.sample(rng(seed));
  return { space: space.name, id: `${space.name}-${seed}`, ...arch, layers: fuseRelus(arch.layers) };
}

const RELU_VARIANT: Record<string, string> = { 'conv-bn': 'conv-bn-relu', 'dwconv-bn': 'dwconv-bn-relu', add: 'add-relu', bn: 'bn-relu' };

const refIndex = (ref: LayerRef) => (typeof ref === 'number' ? ref : ref[0]);

/**
 * A relu whose input is read by nothing else runs fused with the kernel before it (runtimes fuse
 * conv+bn+relu and add+relu), so the space lists the fused kernel, as decomposing its model gives.
 * NAS-Bench-201's ReLU-Conv-BN edges need this; the other spaces write fused kernels already.
 */
export function fuseRelus(layers: readonly NetworkLayer[]): NetworkLayer[] {
  const from = (l: NetworkLayer, i: number) => l.from ?? [i - 1];
  const readers = new Map<number, number>();
  layers.forEach((l, i) => from(l, i).forEach((r) => readers.set(refIndex(r), (readers.get(refIndex(r)) ?? 0) + 1)));
  const fusedInto = new Map<number, number>(); // relu layer -> the layer it joins
  layers.forEach((l, i) => {
    if (!isKernelLayer(l) || l.config.type !== 'relu' || i === layers.length - 1) return;
    const [src] = from(l, i);
    const j = src === undefined ? -1 : refIndex(src);
    const producer = layers[j];
    if (
      typeof src !== 'number' ||
      j < 0 ||
      readers.get(j) !== 1 ||
      !producer ||
      !isKernelLayer(producer) ||
      !RELU_VARIANT[producer.config.type]
    )
      return;
    fusedInto.set(i, j);
  });
  if (fusedInto.size === 0) return [...layers];
  const newIndex: number[] = [];
  let next = 0;
  layers.forEach((_, i) => (newIndex[i] = fusedInto.has(i) ? -2 : next++));
  const remap = (r: LayerRef): LayerRef => {
    const j = refIndex(r);
    const target = j < 0 ? j : newIndex[fusedInto.get(j) ?? j]!;
    return typeof r === 'number' ? target : [target, r[1]];
  };
  const fusedTypes = new Set(fusedInto.values());
  return layers.flatMap((l, i) => {
    if (fusedInto.has(i)) return [];
    const refs = from(l, i).map(remap);
    const implicit = refs.length === 1 && refs[0] === newIndex[i]! - 1;
    const base = isKernelLayer(l) && fusedTypes.has(i) ? { ...l, config: { ...l.config, type: RELU_VARIANT[l.config.type]! } } : { ...l };
    delete (base as { from?: unknown }).from;
    return [implicit ? base : { ...base, from: refs }];
  });
}

/** The architecture's kernels, in network order. */
export function kernelsOf(arch: Architecture): KernelConfig[] {
  return arch.layers.filter(isKernelLayer).map((l) => l.config);
}

/** The architecture as ONNX; `structureOnly`: large weights without values (to read the graph, not to run it). */
export function buildArchitectureModel(arch: Architecture, options: { structureOnly?: boolean } = {}): BuiltModel {
  return buildNetworkModel(arch.layers, arch.inputShape, options);
}
