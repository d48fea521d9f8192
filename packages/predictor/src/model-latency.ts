// A whole model's latency: the sum of its kernels' predictions plus a per-model overhead, with
// what is not covered said out loud.
import type { KernelConfig } from '@litepred/kernels';
import { predictAs } from './fusion.js';
import { factorOf, type Composition } from './composition.js';
import { decomposeModel, type Coverage, type Decomposition } from './decompose/decompose.js';
import { reorderMs, type ReorderCost } from './reorder-cost.js';

import type { KernelLatencyPredictor } from './kernel-latency-predictor.js';

export type { KernelLatencyPredictor };

export interface ModelPrediction {
  latencyMs: number;
  overheadMs: number;
  /** Per kernel: its predicted time inside the network (the standalone prediction times its type's composition factor). */
  kernels: { config: KernelConfig; predictedMs: number | null }[];
  /** The device's in-network factors, where it has them (composition.ts). */
  composition?: Composition;
  /** The layout reorders between its kernels, and what they cost the device (0 where it has no reorder cost: no NCHWc). */
  reorders: { count: number; ms: number };
  /** Its glue nodes that copy a tensor (reshapes, transposes, slices, ...), priced as copies by the same cost. */
  copies: { count: number; ms: number };
  /** Kernel types the model has and no predictor was given for: their kernels count as null, not 0. */
  missingPredictors: string[];
  coverage: Coverage;
}

export function predictModel(
  bytes: Uint8Array,
  predictors: ReadonlyMap<string, KernelLatencyPredictor>,
  options: { inputShape?: readonly number[]; overheadMs?: number; composition?: Composition; reorderCost?: ReorderCost } = {},
): ModelPrediction {
  return predictDecomposed(decomposeModel(bytes, options), predictors, options);
}

/** The same from a decomposition already made (a NAS loop decomposes each candidate once). */
export function predictDecomposed(
  { kernels, coverage, foldsBatchNorm, reorders, copies }: Decomposition,
  predictors: ReadonlyMap<string, KernelLatencyPredictor>,
  options: { overheadMs?: number; composition?: Composition; reorderCost?: ReorderCost } = {},
): ModelPrediction {
  const byType = new Map<string, number[]>();
  kernels.forEach((k, i) => {
    const list = byType.get(k.config.type);
    if (list) list.push(i);
    else byType.set(k.config.type, [i]);
  });
  const predicted = new Array<number | null>(kernels.length).fill(null);
  const missing: string[] = [];
  for (const [type, idx] of byType) {
    const ms = predictAs(
      predictors,
      type,
      idx.map((i) => kernels[i]!.config),
      foldsBatchNorm,
    );
    if (!ms) {
      missing.push(type);
      continue;
    }
    const factor = factorOf(options.composition, type);
    ms.forEach((v, j) => (predicted[idx[j]!] = v * factor));
  }
  const overheadMs = options.overheadMs ?? 0;
  const cost = options.reorderCost;
  const reorderTotal = cost ? reorders.reduce((s, r) => s + reorderMs(cost, r.bytes), 0) : 0;
  const copyTotal = cost ? copies.reduce((s, c) => s + reorderMs(cost, c.bytes), 0) : 0;
  return {
    latencyMs: overheadMs + reorderTotal + copyTotal + predicted.reduce<number>((s, v) => s + (v ?? 0), 0),
    overheadMs,
    reorders: { count: cost ? reorders.length : 0, ms: reorderTotal },
    copies: { count: cost ? copies.length : 0, ms: copyTotal },
    kernels: kernels.map((k, i) => ({ config: k.config, predictedMs: predicted[i]! })),
    missingPredictors: missing.sort(),
    coverage,
    ...(options.composition ? { composition: options.composition } : {}),
  };
}
