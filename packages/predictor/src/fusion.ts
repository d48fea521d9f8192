// nn-Meter's fusion-rule detection: time op1, op2 and op1->op2 on the device; the pair runs fused
// when T1 + T2 - T12 > alpha * min(T1, T2). The rules found per device steer decomposition.
import { convTypeName, convTypeParts, type KernelConfig } from '@litepred/kernels';

export interface FusionPair {
  name: string;
  first: string;
  second: string;
  fused: string;
}

/** Pairs whose fusion decides how a model splits into kernels (relu6 has no kernel of its own, so it always goes with its conv). */
export const FUSION_PAIRS: readonly FusionPair[] = [
  { name: 'conv-bn+relu', first: 'conv-bn', second: 'relu', fused: 'conv-bn-relu' },
  { name: 'conv-bn+hswish', first: 'conv-bn', second: 'hswish', fused: 'conv-bn-hswish' },
  { name: 'dwconv-bn+relu', first: 'dwconv-bn', second: 'relu', fused: 'dwconv-bn-relu' },
  { name: 'dwconv-bn+hswish', first: 'dwconv-bn', second: 'hswish', fused: 'dwconv-bn-hswish' },
  { name: 'add+relu', first: 'add', second: 'relu', fused: 'add-relu' },
  { name: 'bn+relu', first: 'bn', second: 'relu', fused: 'bn-relu' },
];

/** Pair name -> fused on this device. Pairs not named count as fused (what ONNX Runtime does on CPU). */
export type FusionRules = Readonly<Record<string, boolean>>;

/**
 * The rule for batch norm after a conv: folded into the conv's weights (then a conv with and
 * without batch norm are one kernel), or run as a node of its own.
 */
export const BN_FOLD_RULE = 'conv+bn';

/**
 * What a runtime configuration says about fusion before anything is measured: ONNX Runtime folds
 * batch norm into the conv before it at every graph optimization level but 'disabled'.
 */
export function runtimeFusionRules(runtime: { graphOptimizationLevel: string }): FusionRules {
  return runtime.graphOptimizationLevel === 'disabled' ? { [BN_FOLD_RULE]: false } : {};
}

/** The three configs to time for a pair: op1, op2 on op1's output shape, and op1->op2 as one kernel. */
export function fusionProbe(
  pair: FusionPair,
  shape: { HW: number; CIN: number; COUT?: number; KERNEL_SIZE?: number },
): [KernelConfig, KernelConfig, KernelConfig] {
  const { HW, CIN } = shape;
  const conv = pair.first.startsWith('conv')
    ? { COUT: shape.COUT ?? CIN, KERNEL_SIZE: shape.KERNEL_SIZE ?? 3, STRIDES: 1 }
    : pair.first.startsWith('dwconv')
      ? { KERNEL_SIZE: shape.KERNEL_SIZE ?? 3, STRIDES: 1 }
      : {};
  const cout = pair.first.startsWith('conv') ? (shape.COUT ?? CIN) : CIN;
  return [
    { type: pair.first, HW, CIN, ...conv },
    { type: pair.second, HW, CIN: cout },
    { type: pair.fused, HW, CIN, ...conv },
  ];
}

/** nn-Meter's rule: fused when the pair saves more than alpha of the cheaper op's time. */
export function isFused(t1: number, t2: number, t12: number, alpha = 0.5): boolean {
  return t1 + t2 - t12 > alpha * Math.min(t1, t2);
}

/** The rule name of `act` after a `first` kernel (a FusionPair's name: conv-bn+relu, add+relu, ...). */
export function ruleFor(first: string, act: string): string {
  return `${first}+${act}`;
}

/**
 * The predictor for a kernel type: its own, or where the runtime folds batch norm into convs, its
 * conv twin's (a device's predictors may have been measured as conv-relu or as conv-bn-relu; on
 * such a runtime both are the same kernel).
 */
export function predictorFor<T>(predictors: ReadonlyMap<string, T>, type: string, foldsBatchNorm = true): T | undefined {
  return predictors.get(predictedAs(predictors, type, foldsBatchNorm) ?? type);
}

/** The type whose predictor predicts `type` (itself, or its conv twin where batch norm folds), or undefined. */
function predictedAs(predictors: ReadonlyMap<string, unknown>, type: string, foldsBatchNorm: boolean): string | undefined {
  if (predictors.has(type)) return type;
  const p = foldsBatchNorm ? convTypeParts(type) : undefined;
  const twin = p ? convTypeName(p.base, !p.bn, p.act) : undefined;
  return twin !== undefined && predictors.has(twin) ? twin : undefined;
}

/**
 * Predictions for configs of one kernel type with predictorFor's choice; a twin's predictor is asked
 * about the configs as its own type (same fields), as a predictor refuses another type's configs.
 */
export function predictAs(
  predictors: ReadonlyMap<string, { predict(configs: readonly KernelConfig[]): number[] }>,
  type: string,
  configs: readonly KernelConfig[],
  foldsBatchNorm = true,
): number[] | undefined {
  const as = predictedAs(predictors, type, foldsBatchNorm);
  if (as === undefined) return undefined;
  return predictors.get(as)!.predict(as === type ? configs : configs.map((c) => ({ ...c, type: as })));
}
