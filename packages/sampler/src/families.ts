// Kernel families: which kernel types share one sampler, the feature vector their configs are
// sampled as, and how a sampled vector becomes a config of a given kernel type.
import { getKernelSpec, kernelTypes, type ConfigField, type KernelConfig, type ResolvedConfig } from '@litepred/kernels';

export type FamilyName = 'conv' | 'dwconv' | 'pooling' | 'fc' | 'transformer' | 'nchw';

export interface Feature {
  name: ConfigField;
  /** Sizes are modelled as log2 (as LitePred does); kernel size and stride as they are. */
  log: boolean;
}

export interface Family {
  name: FamilyName;
  summary: string;
  features: readonly Feature[];
  /** The family's feature vector of a config (CIN1+CIN2 for concat, COUT=CIN for token kernels). */
  row(c: ResolvedConfig): number[];
  /** A config of `type` from a feature vector; `extra` gives fields the vector lacks (HEADS). */
  config(type: string, row: readonly number[], extra?: Partial<Record<ConfigField, number>>): KernelConfig;
}

const f = (name: ConfigField, log = true): Feature => ({ name, log });
const byName = (features: readonly Feature[], row: readonly number[]) =>
  Object.fromEntries(features.map((feat, i) => [feat.name, row[i]!])) as Record<ConfigField, number>;

function simple(name: FamilyName, summary: string, features: Feature[]): Family {
  return {
    name,
    summary,
    features,
    row: (c) => features.map((feat) => c[feat.name]),
    config: (type, row) => ({ type, ...byName(features, row) }),
  };
}

export const FAMILIES: Record<FamilyName, Family> = {
  conv: simple('conv', 'convolutions (conv-bn-relu, conv-bn, ...)', [
    f('HW'),
    f('CIN'),
    f('COUT'),
    f('KERNEL_SIZE', false),
    f('STRIDES', false),
  ]),
  dwconv: simple('dwconv', 'depthwise convolutions', [f('HW'), f('CIN'), f('KERNEL_SIZE', false), f('STRIDES', false)]),
  pooling: simple('pooling', 'max and average pooling', [f('HW'), f('CIN'), f('KERNEL_SIZE', false), f('STRIDES', false)]),
  fc: simple('fc', 'fully connected layers', [f('CIN'), f('COUT')]),
  transformer: {
    name: 'transformer',
    summary: 'token kernels of vision transformers (matmul, mhsa, layernorm, gelu, softmax, token-add)',
    features: [f('L'), f('CIN'), f('COUT')],
    row: (c) => [c.L, c.CIN, c.type === 'matmul' ? c.COUT : c.CIN],
    config(type, [l, cin, cout], extra = {}) {
      if (type === 'matmul') return { type, L: l, CIN: cin, COUT: cout };
      if (type === 'mhsa') return { type, L: l, CIN: cin, HEADS: extra.HEADS ?? 1 };
      return { type, L: l, CIN: cin };
    },
  },
  nchw: {
    name: 'nchw',
    summary: 'element-wise and block kernels on an NCHW activation (add, relu, se, concat, split, ...)',
    features: [f('HW'), f('CIN')],
    row: (c) => [c.HW, c.type === 'concat' ? c.CIN1 + c.CIN2 + c.CIN3 + c.CIN4 : c.CIN],
    config(type, [hw, cin]) {
      if (type === 'concat') return { type, HW: hw, CIN1: Math.ceil(cin! / 2), CIN2: Math.floor(cin! / 2) };
      return { type, HW: hw, CIN: cin };
    },
  },
};

/** The family a kernel type is sampled through; throws for an unknown type. */
export function familyOf(type: string): Family {
  const spec = getKernelSpec(type);
  if (spec.family === 'conv' || spec.family === 'dwconv' || spec.family === 'fc' || spec.family === 'transformer')
    return FAMILIES[spec.family];
  if (type === 'maxpool' || type === 'avgpool') return FAMILIES.pooling;
  return FAMILIES.nchw;
}

/** The kernel types of a family. */
export function typesOf(family: FamilyName): string[] {
  return kernelTypes().filter((t) => familyOf(t).name === family);
}
