// Kernel configurations: flat records of named integer fields, named as in nn-Meter and LitePred
// (HW, CIN, COUT, KERNEL_SIZE, STRIDES) so their CSV tables load as they are. HW is the height;
// W, where given, the width (real networks run on rectangular inputs; nn-Meter's tables are square).
import type { GraphBuilder, Shape } from './graph.js';

export const CONFIG_FIELDS = [
  'HW',
  'CIN',
  'COUT',
  'KERNEL_SIZE',
  'STRIDES',
  'CIN1',
  'CIN2',
  'CIN3',
  'CIN4',
  'GROUPS',
  'L',
  'HEADS',
  'W',
  'DILATION',
  'CMID',
  'BCAST',
] as const;
export type ConfigField = (typeof CONFIG_FIELDS)[number];

export type KernelConfig = { readonly type: string } & { readonly [F in ConfigField]?: number };

/**
 * A validated config: every field present, 0 where the kernel type does not use it. W is always
 * the real width (HW where the config leaves it out).
 */
export type ResolvedConfig = { readonly type: string } & { readonly [F in ConfigField]: number };

export type KernelFamily = 'conv' | 'dwconv' | 'fc' | 'pooling' | 'elementwise' | 'block' | 'transformer';

/** Thrown for any config that cannot be built; `field` names the culprit. */
export class KernelConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'KernelConfigError';
  }
}

/** What a kernel type is: its fields, shape and cost formulas, and how to emit it as ONNX nodes. */
export interface KernelSpec {
  readonly type: string;
  readonly family: KernelFamily;
  readonly summary: string;
  readonly required: readonly ConfigField[];
  /** Optional fields and their defaults: a number, or another field whose value it takes (W defaults to HW). */
  readonly optional?: Partial<Record<ConfigField, number | ConfigField>>;
  /** Activation inputs, in order. Shapes are NCHW, or [1, L, C] for transformer kernels. */
  inputShapes(c: ResolvedConfig): Shape[];
  outputShapes(c: ResolvedConfig): Shape[];
  /** nn-Meter's convention: 2 FLOPs per multiply-accumulate, bias included. */
  flops(c: ResolvedConfig): number;
  params(c: ResolvedConfig): number;
  /** Extra checks beyond positive integers; throw KernelConfigError naming the field. */
  check?(c: ResolvedConfig): void;
  /** Emits the kernel's nodes consuming `inputs`; returns its output tensor names. */
  emit(g: GraphBuilder, inputs: readonly string[], c: ResolvedConfig): string[];
  /**
   * 'flatten': the sink flattens the output before taking its first element. ONNX Runtime's
   * transpose optimizer moves a Transpose past a Slice, so a kernel that ends in one would be timed
   * on one element; it cannot move it past a Reshape to one dimension.
   */
  readonly sink?: 'flatten';
}
