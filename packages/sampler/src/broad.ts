// The "broad" sampler: each family's features drawn log-uniformly over the ranges deployed
// networks use, not only the search spaces' (whose transformer kernels, from AutoFormer alone,
// all have L = 197). Sizes are log-uniform and snapped to what exporters produce (channels to
// multiples of 8 above 16, token counts and sizes as integers); kernel sizes and strides from the
// lists real networks use (patchify stems included: 4x4 and 16x16 windows of their own stride).
// Ranges are written from the published architectures' definitions (MobileNets, EfficientNets,
// ResNets, ConvNeXt, ViT/DeiT, LeViT, MobileViT), not fitted to the test corpus.
import type { Rng } from '@litepred/nn';
import type { Family, FamilyName } from './families.js';

const logUniform = (r: Rng, lo: number, hi: number) => Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo)));
const channels = (r: Rng, lo: number, hi: number) => {
  const c = Math.round(logUniform(r, lo, hi));
  return c <= 16 ? c : Math.round(c / 8) * 8;
};
const pick = <T>(r: Rng, values: readonly T[]) => values[Math.floor(r() * values.length)]!;

/** Kernel size and stride of convolutions as deployed networks have them; the patchify stems last. */
const CONV_WINDOWS: readonly [number, number][] = [
  [1, 1],
  [1, 1],
  [1, 1],
  [3, 1],
  [3, 1],
  [3, 2],
  [5, 1],
  [5, 2],
  [7, 1],
  [7, 2],
  [2, 2],
  [4, 4],
  [16, 16],
];
const DW_WINDOWS: readonly [number, number][] = [
  [1, 1],
  [3, 1],
  [3, 1],
  [3, 2],
  [5, 1],
  [5, 2],
  [7, 1],
  [7, 2],
  [9, 1],
  [11, 1],
];
const POOL_WINDOWS: readonly [number, number][] = [
  [2, 2],
  [3, 2],
  [3, 1],
  [5, 1],
  [2, 1],
];

/** A feature vector in the family's feature order. */
function row(family: FamilyName, r: Rng): number[] {
  switch (family) {
    case 'conv': {
      const [k, s] = pick(r, CONV_WINDOWS);
      return [Math.round(logUniform(r, Math.max(k, 2), 320)), channels(r, 3, 2048), channels(r, 8, 2048), k, s];
    }
    case 'dwconv': {
      const [k, s] = pick(r, DW_WINDOWS);
      return [Math.round(logUniform(r, Math.max(k, 2), 224)), channels(r, 8, 2048), k, s];
    }
    case 'pooling': {
      const [k, s] = pick(r, POOL_WINDOWS);
      return [Math.round(logUniform(r, Math.max(k, 2), 160)), channels(r, 8, 1024), k, s];
    }
    case 'fc':
      return [channels(r, 64, 4096), channels(r, 10, 4096)];
    case 'transformer':
      return [Math.round(logUniform(r, 1, 4096)), channels(r, 16, 1536), channels(r, 16, 4096)];
    case 'nchw':
      return [Math.round(logUniform(r, 1, 224)), channels(r, 8, 2048)];
  }
}

/** Rows of `family`'s features drawn over deployed networks' ranges. */
export function broadRows(family: Family): (n: number, r: Rng) => number[][] {
  return (n, r) => Array.from({ length: n }, () => row(family.name, r));
}
