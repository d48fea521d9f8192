// The one thing every kernel predictor (roofline, MLP, boosted trees, stored, transferred) does; a
// file of its own so that what uses predictors and what composes them need not import each other.
import type { KernelConfig } from '@litepred/kernels';

export interface KernelLatencyPredictor {
  kernelType: string;
  predict(configs: readonly KernelConfig[]): number[];
}
