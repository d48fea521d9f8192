// Accuracy figures as LitePred and nn-Meter report them.

export interface Metrics {
  n: number;
  rmse: number;
  /** Root mean squared relative error. */
  rmspe: number;
  /** Mean absolute relative error. */
  mape: number;
  /** Shares of predictions within ±5%, ±10%, ±15% of the measurement. */
  within5: number;
  within10: number;
  within15: number;
}

export function metrics(predicted: readonly number[], measured: readonly number[]): Metrics {
  if (predicted.length !== measured.length || measured.length === 0)
    throw new Error(`metrics need equal, non-empty lists (got ${predicted.length} and ${measured.length})`);
  const n = measured.length;
  const rel = measured.map((y, i) => (predicted[i]! - y) / y);
  const share = (bound: number) => rel.filter((r) => Math.abs(r) <= bound).length / n;
  return {
    n,
    rmse: Math.sqrt(measured.reduce((s, y, i) => s + (predicted[i]! - y) ** 2, 0) / n),
    rmspe: Math.sqrt(rel.reduce((s, r) => s + r * r, 0) / n),
    mape: rel.reduce((s, r) => s + Math.abs(r), 0) / n,
    within5: share(0.05),
    within10: share(0.1),
    within15: share(0.15),
  };
}
